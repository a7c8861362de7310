/* SPDX-License-Identifier: MIT */
/* suggest.c - "did you mean" for mistyped commands, fields and values. */
#include "common/suggest.h"

#include <string.h>

#define WORD_MAX 63

unsigned int edit_distance(const char *a, const char *b)
{
	unsigned int row[WORD_MAX + 1], i, j, prev, tmp;
	size_t la = strlen(a), lb = strlen(b);

	if (la >= WORD_MAX || lb >= WORD_MAX)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}
