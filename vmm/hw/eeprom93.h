/* SPDX-License-Identifier: MIT */
/* eeprom93.h - a read-only Microwire serial EEPROM (93C46/93C66) driven through its pins. */
#ifndef LOOM_VMM_HW_EEPROM93_H
#define LOOM_VMM_HW_EEPROM93_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Both the 82540EM (EECD register) and the RTL8139 (Cfg9346 register) let the
 * driver bit-bang a 93Cx6 EEPROM: chip select, clock, data in, data out.
 * Protocol, per rising clock edge while CS is high: zeros are ignored until
 * a start bit (1), then a 2-bit opcode and the address bits; for READ (10)
 * the chip drives a dummy 0, then the 16 bits of the word, most significant
 * first, then the following words for as long as the clock runs. Other
 * opcodes (write, erase, enable) are accepted and ignored: the guest cannot
 * change the MAC or checksum the VMM set. Dropping CS ends any command. The
 * state is a handful of counters, so no pin sequence can make it loop.
 */
enum { EEPROM93_MAX_WORDS = 256 };

struct eeprom93 {
	uint16_t words[EEPROM93_MAX_WORDS];
	unsigned int addr_bits;	/* 6: 64 words (93C46), 8: 256 (93C66) */
	bool cs, sk, dout;
	enum { EE93_IDLE, EE93_CMD, EE93_READ, EE93_IGNORE } state;
	unsigned int nbits;	/* command bits after the start bit */
	unsigned int cmd;
	unsigned int addr;	/* word being shifted out */
	int bit;		/* bit of it on dout, 16 = dummy */
};

/**
 * eeprom93_init() - set the contents and return the pins to idle.
 * @e: the EEPROM.
 * @addr_bits: 6 or 8.
 * @words: (1 << @addr_bits) words.
 */
void eeprom93_init(struct eeprom93 *e, unsigned int addr_bits,
		   const uint16_t *words);

/**
 * eeprom93_reset() - idle pins, contents kept.
 * @e: the EEPROM.
 */
void eeprom93_reset(struct eeprom93 *e);

/**
 * eeprom93_pins() - the driver set the input pins.
 * @e: the EEPROM.
 * @cs: chip select.
 * @sk: clock (a low-to-high change clocks @di in).
 * @di: data in.
 */
void eeprom93_pins(struct eeprom93 *e, bool cs, bool sk, bool di);

/**
 * eeprom93_dout() - the data-out pin (1 while no read is in progress).
 * @e: the EEPROM.
 */
bool eeprom93_dout(const struct eeprom93 *e);

/**
 * eeprom93_checksum_fix() - set the last word so all words sum to @target
 * (0xBABA for Intel NICs).
 * @e: the EEPROM.
 * @word: index of the checksum word.
 * @target: the sum wanted.
 */
void eeprom93_checksum_fix(struct eeprom93 *e, unsigned int word,
			   uint16_t target);

#endif
