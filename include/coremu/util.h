/*
 * coremu — small compile-time helpers that every part of the tree uses.
 */
#ifndef COREMU_UTIL_H
#define COREMU_UTIL_H

/* The number of elements of an array (not of a pointer: the division would be wrong). */
#define COREMU_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* COREMU_UTIL_H */
