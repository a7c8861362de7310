/* SPDX-License-Identifier: MIT */
/* pci.h - PCI bus (config mechanism #1), BARs, INTx/MSI/MSI-X, device ops. */
#ifndef LOOM_VMM_PCI_H
#define LOOM_VMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pci_dev;

/*
 * The bus owns every device's configuration space image. The guest reaches
 * it through ports 0xcf8/0xcfc (mechanism #1), bus 0 only, function 0 only.
 * A config write is applied to the image through a per-byte write mask
 * (bits the guest may change) and a write-1-to-clear mask; the bus itself
 * handles the command register, the BARs (size probing, placement, decoding
 * on/off), the capability list, MSI and MSI-X. A device learns of writes
 * through ops->config_write, after the image has changed.
 *
 * BAR accesses: the bus registers the whole PCI MMIO window and PIO range
 * with the VM and dispatches each access to the device whose enabled BAR
 * contains it (ops->bar_read / ops->bar_write) with the offset inside the
 * BAR. Accesses to the MSI-X table and PBA are handled by the bus and never
 * reach the device.
 *
 * Bad input: whatever the guest writes to config space or BARs, the VMM keeps
 * running. A device that finds its own state unusable calls
 * pci_dev_set_broken(): from then on its BARs read as all ones, writes are
 * dropped, it raises no interrupts, and the reason is logged once. A guest
 * reset (or VMM restart) is the only way back; the control socket reports it.
 *
 * Locking: config accesses are serialized by the bus lock. BAR callbacks run
 * in vCPU threads WITHOUT the bus lock, concurrently on SMP guests: devices
 * lock their own state. Interrupt functions may be called from any thread.
 */

enum {
	PCI_MAX_DEVS = 32,		/* bus 0, one function per slot */
	PCI_CFG_SIZE = 256,		/* conventional config space */
	PCI_CFG_SIZE_EXT = 4096,	/* extended (only via a future ECAM) */
	PCI_NR_BARS = 6,
	PCI_MSIX_MAX_VECTORS = 64,
};

/* Config space offsets and bits the bus and devices use. */
enum {
	PCI_CFG_VENDOR_ID = 0x00,
	PCI_CFG_DEVICE_ID = 0x02,
	PCI_CFG_COMMAND = 0x04,
	PCI_CFG_STATUS = 0x06,
	PCI_CFG_REVISION = 0x08,
	PCI_CFG_CLASS_PROG = 0x09,
	PCI_CFG_HEADER_TYPE = 0x0e,
	PCI_CFG_BAR0 = 0x10,
	PCI_CFG_SUBSYS_VENDOR = 0x2c,
	PCI_CFG_SUBSYS_ID = 0x2e,
	PCI_CFG_ROM = 0x30,
	PCI_CFG_CAP_PTR = 0x34,
	PCI_CFG_INT_LINE = 0x3c,
	PCI_CFG_INT_PIN = 0x3d,

	PCI_CMD_IO = 0x1,
	PCI_CMD_MEMORY = 0x2,
	PCI_CMD_MASTER = 0x4,
	PCI_CMD_INTX_DISABLE = 0x400,
	PCI_STATUS_INTX = 0x8,
	PCI_STATUS_CAP_LIST = 0x10,

	PCI_CAP_ID_MSI = 0x05,
	PCI_CAP_ID_VNDR = 0x09,
	PCI_CAP_ID_MSIX = 0x11,
};

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_MMIO32,
	PCI_BAR_MMIO64,		/* takes this BAR and the next */
	PCI_BAR_PIO,
};

/**
 * struct pci_dev_ops - what a device implements. All ops are optional.
 *
 * @bar_read: guest read of @len (1, 2, 4 or 8) bytes at @offset inside BAR
 *	@bar; fill @data (little endian). @offset + @len <= BAR size is
 *	guaranteed. Runs in a vCPU thread; takes the device's own lock.
 * @bar_write: guest write; same rules. Must validate every value: the guest
 *	is untrusted. On unrecoverable nonsense, pci_dev_set_broken().
 * @config_read: optional override after the bus filled @val from the image
 *	(e.g. a register with read side effects); @off is dword aligned
 *	and below the config size, @val is the 32-bit dword.
 * @config_write: notification after the bus applied a write of @len bytes at
 *	@off to the image (masks already applied); read the new values from
 *	pci_dev_cfg_*(). Called with the bus lock held: do not call back
 *	into config-space functions of other devices.
 * @bar_moved: a BAR got a new address, or decoding turned on/off
 *	(@addr == 0 means unmapped). Devices with ioeventfds in that BAR
 *	move them here. Called with the bus lock held.
 * @msix_changed: MSI-X enable/mask state or a vector's message changed;
 *	devices handing irqfds to other parties re-read them here.
 * @reset: return to power-on state (bus already reset config image bits
 *	the bus owns: command, BAR addresses, MSI/MSI-X state).
 * @destroy: free the device's private state; the bus frees nothing else.
 */
struct pci_dev_ops {
	void (*bar_read)(struct pci_dev *dev, int bar, uint64_t offset,
			 uint8_t *data, unsigned int len);
	void (*bar_write)(struct pci_dev *dev, int bar, uint64_t offset,
			  const uint8_t *data, unsigned int len);
	void (*config_read)(struct pci_dev *dev, unsigned int off,
			    uint32_t *val);
	void (*config_write)(struct pci_dev *dev, unsigned int off,
			     unsigned int len);
	void (*bar_moved)(struct pci_dev *dev, int bar, uint64_t addr);
	void (*msix_changed)(struct pci_dev *dev);
	void (*reset)(struct pci_dev *dev);
	void (*destroy)(struct pci_dev *dev);
};

struct pci_bar {
	enum pci_bar_type type;
	uint64_t size;		/* power of two; 0 = unused */
	uint64_t addr;		/* guest address programmed by the guest */
	bool prefetch;
	bool mapped;		/* decoding: address valid and command bit set */
};

struct pci_msix_entry {
	uint64_t addr;
	uint32_t data;
	uint32_t ctrl;		/* bit 0: vector masked */
	int gsi;		/* KVM route, -1 if none */
	int irqfd;		/* eventfd assigned to @gsi, -1 if none */
	bool pending;
};

/**
 * struct pci_dev - one PCI function. Embed it in the device's own state
 * (or point @priv at it). Fields are owned by the bus after pci_bus_add();
 * devices read config through the accessors, and call the functions below.
 */
struct pci_dev {
	struct pci_bus *bus;
	const struct pci_dev_ops *ops;
	void *priv;
	const char *name;
	uint8_t slot;
	unsigned int cfg_size;	/* PCI_CFG_SIZE */
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may write */
	uint8_t w1cmask[PCI_CFG_SIZE];	/* bits a guest write of 1 clears */
	uint8_t cap_next;	/* next free config offset for capabilities */
	uint8_t cap_last;	/* offset of the last capability, 0 = none */
	struct pci_bar bars[PCI_NR_BARS];

	/* INTx */
	unsigned int intx_gsi;
	bool intx_level;

	/* MSI (single vector, 64-bit) */
	uint8_t msi_cap;	/* 0 = none */
	struct pci_msix_entry msi;	/* its message, route and irqfd */

	/* MSI-X */
	uint8_t msix_cap;	/* 0 = none */
	uint16_t msix_nr;
	int msix_table_bar;
	uint64_t msix_table_off;
	int msix_pba_bar;
	uint64_t msix_pba_off;
	struct pci_msix_entry msix[PCI_MSIX_MAX_VECTORS];
	pthread_mutex_t irq_lock;

	/* Error state: see the top of this file. */
	volatile bool broken;
	char broken_reason[96];
};

/**
 * struct pci_bus - the host bridge and bus 0.
 * @vm: the VM (its irq/route helpers); a KVM-less VM works for tests.
 * @devs: devices by slot; slot 0 is the host bridge.
 */
struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;
	uint32_t cf8;		/* CONFIG_ADDRESS latch */
	struct pci_dev host_bridge;
	struct pci_dev *devs[PCI_MAX_DEVS];
	uint64_t mmio_next;	/* allocator cursors for initial BARs */
	uint64_t pio_next;
	uint64_t bad_accesses;
};

/**
 * pci_bus_init() - create bus 0 with a host bridge (8086:1237) at slot 0.
 * @bus: the bus to fill.
 * @vm: the VM; its PIO 0xcf8-0xcff, PCI MMIO window and PIO range are
 *	registered (do this before vCPUs run).
 *
 * Return: 0 or negative errno.
 */
int pci_bus_init(struct pci_bus *bus, struct vm *vm);

/**
 * pci_bus_destroy() - call every device's destroy op, free MSI routes.
 * @bus: the bus.
 */
void pci_bus_destroy(struct pci_bus *bus);

/**
 * pci_dev_init() - fill a device's identity before adding it.
 * @dev: the device (zeroed by this call).
 * @name: short name for logs ("virtio-blk").
 * @ops: its ops table (static storage).
 * @priv: the device's context, reachable as dev->priv.
 * @vendor: vendor ID.
 * @device: device ID.
 * @class_code: 24-bit class/subclass/prog-if.
 * @revision: revision ID.
 * @subsys_vendor: subsystem vendor ID.
 * @subsys_id: subsystem ID.
 */
void pci_dev_init(struct pci_dev *dev, const char *name,
		  const struct pci_dev_ops *ops, void *priv, uint16_t vendor,
		  uint16_t device, uint32_t class_code, uint8_t revision,
		  uint16_t subsys_vendor, uint16_t subsys_id);

/**
 * pci_dev_set_bar() - declare a BAR before pci_bus_add().
 * @dev: the device.
 * @bar: BAR index (0-5; MMIO64 uses @bar and @bar + 1).
 * @type: kind of BAR.
 * @size: size in bytes, a power of two, >= 16 (PIO: >= 4, <= 256).
 * @prefetch: prefetchable memory (MMIO only).
 *
 * The bus assigns an initial address in pci_bus_add() (the guest may move
 * it); decoding starts off until the guest sets the command bits.
 *
 * Return: 0 or -EINVAL.
 */
int pci_dev_set_bar(struct pci_dev *dev, int bar, enum pci_bar_type type,
		    uint64_t size, bool prefetch);

/**
 * pci_dev_add_cap() - append a capability to the config space list.
 * @dev: the device, before pci_bus_add().
 * @id: capability ID.
 * @len: total length including the 2-byte header (>= 2).
 * @body: @len - 2 bytes after the header, or NULL for zeros.
 *
 * The capability is read-only to the guest unless the device opens bytes
 * with pci_dev_set_wmask().
 *
 * Return: the capability's config offset (>= 0x40), or negative errno.
 */
int pci_dev_add_cap(struct pci_dev *dev, uint8_t id, unsigned int len,
		    const void *body);

/**
 * pci_dev_set_wmask() - let the guest write bits of config bytes.
 * @dev: the device.
 * @off: first byte.
 * @mask: mask bytes to apply (one per config byte).
 * @len: number of bytes.
 */
void pci_dev_set_wmask(struct pci_dev *dev, unsigned int off,
		       const uint8_t *mask, unsigned int len);

/**
 * pci_dev_msix_init() - give the device MSI-X with @nr vectors.
 * @dev: the device, before pci_bus_add(), BARs already declared.
 * @nr: vectors (1..PCI_MSIX_MAX_VECTORS).
 * @table_bar: BAR holding the table (16 bytes per vector) at @table_off.
 * @table_off: offset, 8-byte aligned.
 * @pba_bar: BAR holding the pending bit array at @pba_off.
 * @pba_off: offset, 8-byte aligned.
 *
 * The bus then owns those BAR ranges: guest accesses there never reach
 * bar_read/bar_write.
 *
 * Return: 0 or negative errno.
 */
int pci_dev_msix_init(struct pci_dev *dev, unsigned int nr, int table_bar,
		      uint64_t table_off, int pba_bar, uint64_t pba_off);

/**
 * pci_dev_msi_init() - give the device a single-vector 64-bit MSI capability.
 * @dev: the device, before pci_bus_add().
 *
 * Return: 0 or negative errno.
 */
int pci_dev_msi_init(struct pci_dev *dev);

/**
 * pci_bus_add() - plug a device into the next free slot (1..31).
 * @bus: the bus.
 * @dev: the device, initialised with pci_dev_init() and friends.
 *
 * Assigns BAR addresses, the INTx pin (INTA) and its IOAPIC GSI
 * (VM_IRQ_PCI_FIRST + (slot + pin - 1) % 4, the swizzle the MP table
 * describes).
 *
 * Return: slot number, or negative errno.
 */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *dev);

/**
 * pci_dev_irq_raise() - signal the device's interrupt.
 * @dev: the device.
 * @vector: MSI-X vector (ignored for MSI/INTx).
 *
 * Uses, in order: MSI-X if enabled (a masked vector sets its pending bit
 * instead), MSI if enabled, else asserts INTx (level; stays asserted until
 * pci_dev_irq_lower()) unless the command register disables INTx. Does
 * nothing when the device is broken or bus mastering is off (MSI/MSI-X).
 */
void pci_dev_irq_raise(struct pci_dev *dev, unsigned int vector);

/**
 * pci_dev_irq_lower() - deassert INTx (no-op for MSI/MSI-X).
 * @dev: the device.
 */
void pci_dev_irq_lower(struct pci_dev *dev);

/**
 * pci_dev_msix_enabled() - whether the guest enabled MSI-X.
 * @dev: the device.
 */
bool pci_dev_msix_enabled(struct pci_dev *dev);

/**
 * pci_dev_msix_irqfd() - an eventfd that injects MSI-X vector @vector.
 * @dev: the device.
 * @vector: vector number.
 *
 * For handing to another thread or process (vhost call fd). The fd stays
 * owned by the bus and valid until the device is destroyed; its route
 * follows the guest's table writes. While the vector is masked, function
 * or enable bits are off, writes to it are lost (the caller should use
 * pci_dev_irq_raise() for those cases; msix_changed tells when).
 *
 * Return: the fd, or -1 (no such vector, MSI-X off, or no KVM).
 */
int pci_dev_msix_irqfd(struct pci_dev *dev, unsigned int vector);

/**
 * pci_dev_set_broken() - put the device in the error state (see above).
 * @dev: the device.
 * @fmt: printf-style reason, logged once and kept for status queries.
 */
void pci_dev_set_broken(struct pci_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * pci_dev_cfg_read() - read @len (1, 2, 4) bytes of the config image.
 * @dev: the device.
 * @off: offset; out-of-range reads give all ones.
 * @len: bytes.
 *
 * Return: the value.
 */
uint32_t pci_dev_cfg_read(struct pci_dev *dev, unsigned int off,
			  unsigned int len);

/**
 * pci_dev_cfg_set() - device-side write to its own config image (no masks).
 * @dev: the device.
 * @off: offset.
 * @val: value.
 * @len: 1, 2 or 4 bytes.
 */
void pci_dev_cfg_set(struct pci_dev *dev, unsigned int off, uint32_t val,
		     unsigned int len);

/**
 * pci_bus_cfg_access() - a config mechanism #1 data access, as from the guest.
 * @bus: the bus.
 * @cf8: the CONFIG_ADDRESS value.
 * @byte: offset inside the data window 0xcfc (0-3).
 * @data: bytes (little endian) to write or fill.
 * @len: 1, 2 or 4.
 * @is_write: direction.
 *
 * What the 0xcfc port handler calls; exposed for tests and the fuzzer.
 */
void pci_bus_cfg_access(struct pci_bus *bus, uint32_t cf8, unsigned int byte,
			uint8_t *data, unsigned int len, bool is_write);

/**
 * pci_bus_irq_pin_gsi() - IOAPIC pin for a slot's INTx pin (1 = INTA).
 * @slot: 0..31.
 * @pin: 1..4.
 *
 * Return: the GSI; used by the MP table.
 */
unsigned int pci_bus_irq_pin_gsi(unsigned int slot, unsigned int pin);

#endif
