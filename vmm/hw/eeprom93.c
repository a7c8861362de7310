// SPDX-License-Identifier: MIT
/* eeprom93.c - a read-only Microwire serial EEPROM (93C46/93C66) driven through its pins. */
#include <string.h>

#include "vmm/hw/eeprom93.h"

enum { EE93_OP_READ = 2 };

void eeprom93_reset(struct eeprom93 *e)
{
	e->cs = e->sk = false;
	e->dout = true;
	e->state = EE93_IDLE;
	e->nbits = e->cmd = e->addr = 0;
	e->bit = 16;
}

void eeprom93_init(struct eeprom93 *e, unsigned int addr_bits,
		   const uint16_t *words)
{
	if (addr_bits != 8)
		addr_bits = 6;
	memset(e->words, 0xff, sizeof(e->words));
	memcpy(e->words, words, sizeof(uint16_t) << addr_bits);
	e->addr_bits = addr_bits;
	eeprom93_reset(e);
}

static void clock_in(struct eeprom93 *e, bool di)
{
	unsigned int mask = (1u << e->addr_bits) - 1;

	switch (e->state) {
	case EE93_IDLE:
		if (di) {
			e->state = EE93_CMD;
			e->nbits = 0;
			e->cmd = 0;
		}
		break;
	case EE93_CMD:
		e->cmd = e->cmd << 1 | di;
		if (++e->nbits < 2 + e->addr_bits)
			break;
		if (e->cmd >> e->addr_bits == EE93_OP_READ) {
			e->state = EE93_READ;
			e->addr = e->cmd & mask;
			e->bit = 16;
			e->dout = false;	/* the dummy bit */
		} else {
			e->state = EE93_IGNORE;
		}
		break;
	case EE93_READ:
		if (--e->bit < 0) {
			e->addr = (e->addr + 1) & mask;
			e->bit = 15;
		}
		e->dout = (e->words[e->addr] >> e->bit) & 1;
		break;
	case EE93_IGNORE:
		break;
	}
}

void eeprom93_pins(struct eeprom93 *e, bool cs, bool sk, bool di)
{
	if (!cs) {
		eeprom93_reset(e);
		e->sk = sk;
		return;
	}
	if (!e->cs) {
		/* Select: a new command starts. */
		e->state = EE93_IDLE;
		e->dout = true;
	}
	if (sk && !e->sk)
		clock_in(e, di);
	e->cs = cs;
	e->sk = sk;
}

bool eeprom93_dout(const struct eeprom93 *e)
{
	return e->dout;
}

void eeprom93_checksum_fix(struct eeprom93 *e, unsigned int word,
			   uint16_t target)
{
	uint16_t sum = 0;
	unsigned int i;

	for (i = 0; i < word && i < EEPROM93_MAX_WORDS; i++)
		sum = (uint16_t)(sum + e->words[i]);
	if (word < EEPROM93_MAX_WORDS)
		e->words[word] = (uint16_t)(target - sum);
}
