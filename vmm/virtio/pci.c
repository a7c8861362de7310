/* SPDX-License-Identifier: MIT */
/* pci.c - virtio-pci modern (1.0+) transport for any struct virtio_dev. */
#include "vmm/virtio/pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/vm.h"

LOG_MODULE("virtio-pci");

/* The common config is at the start of the BAR: offsets below need no
 * lower bound check. */
_Static_assert(VIRTIO_PCI_COMMON_OFF == 0, "common cfg at BAR offset 0");

static struct virtio_pci *to_vp(struct pci_dev *dev)
{
	return dev->priv;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Interrupts -------------------------------------------------------------- */

static void vp_raise(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (pci_dev_msix_enabled(&vp->pci)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			pci_dev_irq_raise(&vp->pci, vector);
		return;
	}
	__atomic_fetch_or(&vp->isr, isr_bit, __ATOMIC_SEQ_CST);
	pci_dev_irq_raise(&vp->pci, 0);
}

static void vp_queue_irq(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_pci *vp = vdev->transport;

	vp_raise(vp, vdev->vqs[q].msix_vector, 1);
}

static void vp_config_irq(struct virtio_dev *vdev)
{
	struct virtio_pci *vp = vdev->transport;

	vp_raise(vp, vp->msix_config, 2);
}

static int vp_queue_irqfd(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_pci *vp = vdev->transport;
	uint16_t vector = vdev->vqs[q].msix_vector;

	if (!pci_dev_msix_enabled(&vp->pci) || vector == VIRTIO_MSI_NO_VECTOR)
		return -1;
	return pci_dev_msix_irqfd(&vp->pci, vector);
}

static const struct virtio_transport_ops vp_transport_ops = {
	.queue_irq = vp_queue_irq,
	.config_irq = vp_config_irq,
	.queue_irqfd = vp_queue_irqfd,
};

/* Doorbells ---------------------------------------------------------------- */

static void vp_ioeventfd_update(struct virtio_pci *vp, uint64_t bar_addr)
{
	struct virtio_dev *vdev = vp->vdev;
	struct vm *vm = vp->pci.bus ? vp->pci.bus->vm : NULL;
	uint64_t new_addr = bar_addr ? bar_addr + VIRTIO_PCI_NOTIFY_OFF : 0;
	unsigned int q;

	if (!vm || vm->vm_fd < 0 || !vdev->kick_by_fd ||
	    new_addr == vp->notify_addr)
		return;
	for (q = 0; vp->notify_addr && q < vdev->nr_queues; q++)
		vm_ioeventfd_del(vm, VM_IO_MMIO,
				 vp->notify_addr + VIRTIO_PCI_NOTIFY_MULT * q,
				 2, false, 0, vdev->kick_fd[q]);
	vp->notify_addr = 0;
	if (!new_addr)
		return;
	for (q = 0; q < vdev->nr_queues; q++) {
		int ret = vm_ioeventfd_add(vm, VM_IO_MMIO,
					   new_addr + VIRTIO_PCI_NOTIFY_MULT * q,
					   2, false, 0, vdev->kick_fd[q]);

		if (ret < 0) {
			/* The trap path still works, only slower. */
			log_warn(MOD, "%s: ioeventfd: %s", vdev->name,
				 strerror(-ret));
			while (q--)
				vm_ioeventfd_del(vm, VM_IO_MMIO,
						 new_addr +
						 VIRTIO_PCI_NOTIFY_MULT * q,
						 2, false, 0, vdev->kick_fd[q]);
			return;
		}
	}
	vp->notify_addr = new_addr;
}

/* Common configuration ----------------------------------------------------- */

static void vp_common_image(struct virtio_pci *vp, uint8_t *img)
{
	struct virtio_dev *vdev = vp->vdev;
	const struct virtq *vq = NULL;

	memset(img, 0, VIRTIO_PCI_COMMON_LEN);
	put_le(img + VIRTIO_PCI_COMMON_DFSELECT, vp->dfselect, 4);
	if (vp->dfselect < 2)
		put_le(img + VIRTIO_PCI_COMMON_DF,
		       vdev->features >> (32 * vp->dfselect), 4);
	put_le(img + VIRTIO_PCI_COMMON_GFSELECT, vp->gfselect, 4);
	if (vp->gfselect < 2)
		put_le(img + VIRTIO_PCI_COMMON_GF,
		       vdev->driver_features >> (32 * vp->gfselect), 4);
	put_le(img + VIRTIO_PCI_COMMON_MSIX, vp->msix_config, 2);
	put_le(img + VIRTIO_PCI_COMMON_NUMQ, vdev->nr_queues, 2);
	img[VIRTIO_PCI_COMMON_STATUS] = vdev->status;
	img[VIRTIO_PCI_COMMON_CFGGEN] = vdev->config_gen;
	put_le(img + VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_sel, 2);
	if (vp->queue_sel < vdev->nr_queues)
		vq = &vdev->vqs[vp->queue_sel];
	if (!vq) {
		/* queue_size 0 tells the driver the queue does not exist. */
		put_le(img + VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
		return;
	}
	put_le(img + VIRTIO_PCI_COMMON_Q_SIZE, vq->size, 2);
	put_le(img + VIRTIO_PCI_COMMON_Q_MSIX, vq->msix_vector, 2);
	put_le(img + VIRTIO_PCI_COMMON_Q_ENABLE, vq->enabled, 2);
	put_le(img + VIRTIO_PCI_COMMON_Q_NOFF, vp->queue_sel, 2);
	put_le(img + VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc_gpa, 8);
	put_le(img + VIRTIO_PCI_COMMON_Q_AVAILLO, vq->avail_gpa, 8);
	put_le(img + VIRTIO_PCI_COMMON_Q_USEDLO, vq->used_gpa, 8);
}

static uint16_t vp_check_vector(struct virtio_pci *vp, uint16_t v)
{
	/* A vector the function does not have reads back as NO_VECTOR. */
	if (v != VIRTIO_MSI_NO_VECTOR && v >= vp->pci.msix_nr)
		return VIRTIO_MSI_NO_VECTOR;
	return v;
}

/* Set the low or high half (or all) of a 64-bit queue address. */
static void vp_set_addr(uint64_t *field, unsigned int rel, uint64_t val,
			unsigned int len)
{
	if (len == 8)
		*field = val;
	else if (rel == 0)
		*field = (*field & ~0xffffffffull) | (uint32_t)val;
	else
		*field = (*field & 0xffffffffull) | (val << 32);
}

/* Field size at a common config offset, 0 if none starts there. */
static unsigned int vp_field_size(unsigned int off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
		return 4;
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGEN:
		return 1;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return 8;
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return 4;
	default:
		return off < VIRTIO_PCI_COMMON_LEN && !(off & 1) ? 2 : 0;
	}
}

static void vp_ignore(struct virtio_pci *vp, const char *what, uint64_t off,
		      unsigned int len)
{
	vp->ignored++;
	log_rl(LOG_WARN, MOD, "%s: ignored %s at 0x%llx (%u bytes)",
	       vp->vdev->name, what, (unsigned long long)off, len);
}

/* Lock held. */
static void vp_common_write(struct virtio_pci *vp, unsigned int off,
			    uint64_t val, unsigned int len)
{
	struct virtio_dev *vdev = vp->vdev;
	unsigned int size = vp_field_size(off);
	struct virtq *vq = NULL;
	unsigned int rel = 0;

	/* 64-bit fields may be written as two 32-bit halves. */
	if (off == VIRTIO_PCI_COMMON_Q_DESCHI ||
	    off == VIRTIO_PCI_COMMON_Q_AVAILHI ||
	    off == VIRTIO_PCI_COMMON_Q_USEDHI) {
		rel = 4;
		off -= 4;
		size = 8;
	}
	if (!size || (len != size && !(size == 8 && len == 4)) ||
	    (rel && len != 4)) {
		vp_ignore(vp, "common config write", off + rel, len);
		return;
	}
	if (vp->queue_sel < vdev->nr_queues)
		vq = &vdev->vqs[vp->queue_sel];
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vp->dfselect = (uint32_t)val;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vp->gfselect = (uint32_t)val;
		return;
	case VIRTIO_PCI_COMMON_GF:
		/* Features are settled once FEATURES_OK was accepted. */
		if ((vdev->status & VIRTIO_STATUS_FEATURES_OK) ||
		    vp->gfselect > 1) {
			vp_ignore(vp, "driver feature write", off, len);
			return;
		}
		vdev->driver_features &= ~(0xffffffffull << (32 * vp->gfselect));
		vdev->driver_features |= (uint64_t)(uint32_t)val
					 << (32 * vp->gfselect);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		vp->msix_config = vp_check_vector(vp, (uint16_t)val);
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		virtio_dev_set_status(vdev, (uint8_t)val);
		if (!vdev->status) {
			vp->dfselect = vp->gfselect = 0;
			vp->queue_sel = 0;
			vp->msix_config = VIRTIO_MSI_NO_VECTOR;
			__atomic_store_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
			pci_dev_irq_lower(&vp->pci);
		}
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vp->queue_sel = (uint16_t)val;
		return;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (vq)
			vq->msix_vector = vp_check_vector(vp, (uint16_t)val);
		return;
	default:
		break;
	}
	/* The remaining fields set up the selected queue: not once enabled. */
	if (!vq || vq->enabled) {
		vp_ignore(vp, "queue write (no such queue or enabled)", off,
			  len);
		return;
	}
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		/* Checked (power of two, <= maximum) at enable time. */
		vq->size = (uint16_t)val;
		return;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (val == 1)
			virtio_dev_queue_enable(vdev, vp->queue_sel);
		else
			vp_ignore(vp, "queue_enable value", off, len);
		return;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
		vp_set_addr(&vq->desc_gpa, rel, val, len);
		return;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
		vp_set_addr(&vq->avail_gpa, rel, val, len);
		return;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		vp_set_addr(&vq->used_gpa, rel, val, len);
		return;
	default:
		vp_ignore(vp, "read-only common config field", off, len);
		return;
	}
}

/* BAR access --------------------------------------------------------------- */

void virtio_pci_bar_read(struct virtio_pci *vp, uint64_t off, uint8_t *data,
			 unsigned int len)
{
	struct virtio_dev *vdev = vp->vdev;
	uint8_t img[VIRTIO_PCI_COMMON_LEN];

	memset(data, 0, len);
	if (len > 8)
		return;
	if (off + len <= VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		pthread_mutex_lock(&vdev->lock);
		vp_common_image(vp, img);
		pthread_mutex_unlock(&vdev->lock);
		memcpy(data, img + (off - VIRTIO_PCI_COMMON_OFF), len);
	} else if (off == VIRTIO_PCI_ISR_OFF) {
		/* Read clears, and drops the INTx line; no lock needed. */
		data[0] = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
		if (data[0])
			pci_dev_irq_lower(&vp->pci);
	} else if (off >= VIRTIO_PCI_DEVICE_OFF &&
		   off + len <= VIRTIO_PCI_DEVICE_OFF + vdev->config_size) {
		pthread_mutex_lock(&vdev->lock);
		vdev->ops->config_read(vdev,
				       (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF),
				       data, len);
		pthread_mutex_unlock(&vdev->lock);
	}
	/* Anything else (notify area, holes) reads as zero. */
}

void virtio_pci_bar_write(struct virtio_pci *vp, uint64_t off,
			  const uint8_t *data, unsigned int len)
{
	struct virtio_dev *vdev = vp->vdev;
	uint64_t notify_end = VIRTIO_PCI_NOTIFY_OFF +
			      (uint64_t)VIRTIO_PCI_NOTIFY_MULT * vdev->nr_queues;

	if (len > 8 || !len)
		return;
	if (off >= VIRTIO_PCI_NOTIFY_OFF && off < notify_end) {
		uint64_t rel = off - VIRTIO_PCI_NOTIFY_OFF;

		if (rel % VIRTIO_PCI_NOTIFY_MULT) {
			vp_ignore(vp, "misaligned notify", off, len);
			return;
		}
		vdev->ops->queue_notify(vdev,
					(unsigned int)(rel /
						       VIRTIO_PCI_NOTIFY_MULT));
	} else if (off + len <= VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		pthread_mutex_lock(&vdev->lock);
		vp_common_write(vp, (unsigned int)(off - VIRTIO_PCI_COMMON_OFF),
				get_le(data, len), len);
		pthread_mutex_unlock(&vdev->lock);
	} else if (off >= VIRTIO_PCI_DEVICE_OFF &&
		   off + len <= VIRTIO_PCI_DEVICE_OFF + vdev->config_size) {
		pthread_mutex_lock(&vdev->lock);
		if (vdev->ops->config_write)
			vdev->ops->config_write(
				vdev, (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF),
				data, len);
		pthread_mutex_unlock(&vdev->lock);
	} else {
		vp_ignore(vp, "write", off, len);
	}
}

/* PCI device ops ------------------------------------------------------------ */

static void vp_pci_bar_read(struct pci_dev *dev, int bar, uint64_t offset,
			    uint8_t *data, unsigned int len)
{
	if (bar != VIRTIO_PCI_BAR) {
		memset(data, 0xff, len);
		return;
	}
	virtio_pci_bar_read(to_vp(dev), offset, data, len);
}

static void vp_pci_bar_write(struct pci_dev *dev, int bar, uint64_t offset,
			     const uint8_t *data, unsigned int len)
{
	if (bar == VIRTIO_PCI_BAR)
		virtio_pci_bar_write(to_vp(dev), offset, data, len);
}

static void vp_pci_bar_moved(struct pci_dev *dev, int bar, uint64_t addr)
{
	if (bar == VIRTIO_PCI_BAR)
		vp_ioeventfd_update(to_vp(dev), addr);
}

static void vp_pci_reset(struct pci_dev *dev)
{
	struct virtio_pci *vp = to_vp(dev);

	pthread_mutex_lock(&vp->vdev->lock);
	vp_common_write(vp, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	pthread_mutex_unlock(&vp->vdev->lock);
}

static void vp_pci_destroy(struct pci_dev *dev)
{
	struct virtio_pci *vp = to_vp(dev);
	struct virtio_dev *vdev = vp->vdev;

	vp_ioeventfd_update(vp, 0);
	/* The device first: its I/O thread may still raise interrupts. */
	if (vdev->ops->destroy)
		vdev->ops->destroy(vdev);
	free(vp);
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG: a window onto the BAR through config space. The
 * driver writes cap.bar, cap.offset and cap.length (1, 2 or 4), then reads
 * or writes pci_cfg_data; an access that does not name a naturally aligned
 * range of the virtio BAR does nothing (reads give zeros).
 */
static bool vp_cfg_window(struct virtio_pci *vp, uint64_t *off,
			  unsigned int *len)
{
	struct pci_dev *d = &vp->pci;
	unsigned int c = vp->cfg_cap;

	*off = pci_dev_cfg_read(d, c + 8, 4);
	*len = pci_dev_cfg_read(d, c + 12, 4);
	return pci_dev_cfg_read(d, c + 4, 1) == VIRTIO_PCI_BAR &&
	       (*len == 1 || *len == 2 || *len == 4) && !(*off % *len) &&
	       *off + *len <= VIRTIO_PCI_BAR_SIZE;
}

static void vp_pci_config_read(struct pci_dev *dev, unsigned int off,
			       uint32_t *val)
{
	struct virtio_pci *vp = to_vp(dev);
	uint8_t data[4] = { 0 };
	unsigned int len;
	uint64_t where;

	if (!vp->cfg_cap || off != vp->cfg_cap + 16u)
		return;
	if (vp_cfg_window(vp, &where, &len))
		virtio_pci_bar_read(vp, where, data, len);
	*val = (uint32_t)get_le(data, 4);
}

static void vp_pci_config_write(struct pci_dev *dev, unsigned int off,
				unsigned int len)
{
	struct virtio_pci *vp = to_vp(dev);
	unsigned int c = vp->cfg_cap, wlen, i;
	uint8_t data[4];
	uint64_t where;

	/* Only a write that touches pci_cfg_data does anything. */
	if (!c || off + len <= c + 16 || off >= c + 20)
		return;
	if (!vp_cfg_window(vp, &where, &wlen))
		return;
	for (i = 0; i < 4; i++)
		data[i] = (uint8_t)pci_dev_cfg_read(dev, c + 16 + i, 1);
	virtio_pci_bar_write(vp, where, data, wlen);
}

static const struct pci_dev_ops vp_pci_ops = {
	.bar_read = vp_pci_bar_read,
	.bar_write = vp_pci_bar_write,
	.config_read = vp_pci_config_read,
	.config_write = vp_pci_config_write,
	.bar_moved = vp_pci_bar_moved,
	.reset = vp_pci_reset,
	.destroy = vp_pci_destroy,
};

/* Set-up --------------------------------------------------------------------- */

static int vp_add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off,
		      uint32_t len, bool notify)
{
	/* struct virtio_pci_cap after the 2-byte header, + multiplier. */
	uint8_t body[18] = { 0 };
	unsigned int cap_len = notify ? 20 : 16;

	body[0] = (uint8_t)cap_len;
	body[1] = type;
	body[2] = VIRTIO_PCI_BAR;
	put_le(body + 6, off, 4);
	put_le(body + 10, len, 4);
	if (notify)
		put_le(body + 14, VIRTIO_PCI_NOTIFY_MULT, 4);
	return pci_dev_add_cap(&vp->pci, PCI_CAP_ID_VNDR, cap_len, body);
}

static int vp_add_cfg_cap(struct virtio_pci *vp)
{
	/* virtio_pci_cap (bar, offset, length writable) + pci_cfg_data. */
	static const uint8_t wmask[20] = {
		[4] = 0xff,
		[8] = 0xff, 0xff, 0xff, 0xff,
		[12] = 0xff, 0xff, 0xff, 0xff,
		[16] = 0xff, 0xff, 0xff, 0xff,
	};
	uint8_t body[18] = { 0 };
	int off;

	body[0] = 20;
	body[1] = VIRTIO_PCI_CAP_PCI_CFG;
	off = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_VNDR, 20, body);
	if (off < 0)
		return off;
	pci_dev_set_wmask(&vp->pci, (unsigned int)off, wmask, sizeof(wmask));
	vp->cfg_cap = (uint8_t)off;
	return 0;
}

static uint32_t vp_class(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000;	/* network, ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x018000;	/* mass storage, other */
	default:
		return 0xff0000;
	}
}

struct virtio_pci *virtio_pci_new(struct virtio_dev *vdev)
{
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	unsigned int nvec = vdev->nr_queues + 1;

	if (!vp)
		return NULL;
	vp->vdev = vdev;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	pci_dev_init(&vp->pci, vdev->name, &vp_pci_ops, vp, VIRTIO_PCI_VENDOR,
		     (uint16_t)(VIRTIO_PCI_DEVICE_BASE + vdev->device_id),
		     vp_class(vdev->device_id), 1, VIRTIO_PCI_VENDOR,
		     vdev->device_id);
	if (pci_dev_set_bar(&vp->pci, VIRTIO_PCI_BAR, PCI_BAR_MMIO64,
			    VIRTIO_PCI_BAR_SIZE, false) < 0 ||
	    vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
		       VIRTIO_PCI_COMMON_LEN, false) < 0 ||
	    vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
		       VIRTIO_PCI_NOTIFY_MULT * vdev->nr_queues, true) < 0 ||
	    vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 4,
		       false) < 0 ||
	    (vdev->config_size &&
	     vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
			vdev->config_size, false) < 0) ||
	    vp_add_cfg_cap(vp) < 0 ||
	    pci_dev_msix_init(&vp->pci, nvec, VIRTIO_PCI_BAR,
			      VIRTIO_PCI_MSIX_TABLE_OFF, VIRTIO_PCI_BAR,
			      VIRTIO_PCI_MSIX_PBA_OFF) < 0) {
		free(vp);
		return NULL;
	}
	vdev->tops = &vp_transport_ops;
	vdev->transport = vp;
	return vp;
}

void virtio_pci_free(struct virtio_pci *vp)
{
	if (!vp)
		return;
	vp->vdev->tops = NULL;
	vp->vdev->transport = NULL;
	free(vp);
}

int virtio_pci_create(struct pci_bus *bus, struct virtio_dev *vdev,
		      struct virtio_pci **out)
{
	struct virtio_pci *vp = virtio_pci_new(vdev);
	int ret;

	if (!vp)
		return -ENOMEM;
	ret = pci_bus_add(bus, &vp->pci);
	if (ret < 0) {
		virtio_pci_free(vp);
		return ret;
	}
	if (out)
		*out = vp;
	return 0;
}
