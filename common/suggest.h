/* SPDX-License-Identifier: MIT */
/* suggest.h - "did you mean" for mistyped commands, fields and values. */
#ifndef LOOM_COMMON_SUGGEST_H
#define LOOM_COMMON_SUGGEST_H

/*
 * edit_distance - Levenshtein distance of two short words (insertions,
 * deletions, substitutions). Words of 63 bytes or more are never close:
 * they return a large distance (99) rather than cost unbounded work.
 */
unsigned int edit_distance(const char *a, const char *b);

#endif
