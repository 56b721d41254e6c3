/* sched_ports.c — an agent's host ports: its sorted ranges and one bit per port in use. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "scheduler/sched_internal.h"

static int cmp_range(const void *pa, const void *pb) {
        const struct sched_port_range *a = pa, *b = pb;
        return a->begin != b->begin ? (a->begin < b->begin ? -1 : 1)
                                    : (a->end < b->end ? -1 : a->end > b->end);
}

void ports_init(struct sched_agent *a, const struct sched_port_range *ranges, size_t n) {
        struct sched_port_range *r = xmalloc((n ? n : 1) * sizeof *r);
        size_t m = 0;
        if (n)
                memcpy(r, ranges, n * sizeof *r);
        qsort(r, n, sizeof *r, cmp_range);
        /* merge overlapping and adjacent ranges */
        for (size_t i = 0; i < n; i++) {
                if (m > 0 && (uint32_t)r[i].begin <= (uint32_t)r[m - 1].end + 1) {
                        if (r[i].end > r[m - 1].end)
                                r[m - 1].end = r[i].end;
                } else {
                        r[m++] = r[i];
                }
        }
        a->ranges = r;
        a->n_ranges = m;
        a->range_base = xmalloc((m ? m : 1) * sizeof *a->range_base);
        uint32_t bits = 0;
        for (size_t i = 0; i < m; i++) {
                a->range_base[i] = bits;
                bits += (uint32_t)r[i].end - r[i].begin + 1;
        }
        a->n_bits = bits;
        a->bits = xcalloc((bits + 63) / 64 + 1, sizeof *a->bits);
        a->n_used_ports = 0;
}

void ports_release(struct sched_agent *a) {
        free(a->ranges);
        free(a->range_base);
        free(a->bits);
        a->ranges = NULL;
        a->range_base = NULL;
        a->bits = NULL;
        a->n_ranges = 0;
        a->n_bits = a->n_used_ports = 0;
}

int32_t ports_bit(const struct sched_agent *a, uint16_t port) {
        size_t lo = 0, hi = a->n_ranges;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (port < a->ranges[mid].begin)
                        hi = mid;
                else if (port > a->ranges[mid].end)
                        lo = mid + 1;
                else
                        return (int32_t)(a->range_base[mid] + (port - a->ranges[mid].begin));
        }
        return -1;
}

uint16_t ports_port(const struct sched_agent *a, uint32_t bit) {
        size_t lo = 0, hi = a->n_ranges;
        while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (a->range_base[mid] <= bit)
                        lo = mid;
                else
                        hi = mid;
        }
        return (uint16_t)(a->ranges[lo].begin + (bit - a->range_base[lo]));
}

bool ports_bit_used(const struct sched_agent *a, uint32_t bit) {
        return (a->bits[bit / 64] >> (bit % 64)) & 1;
}

void ports_bit_set(struct sched_agent *a, uint32_t bit, bool used) {
        uint64_t m = 1ULL << (bit % 64);
        if (used) {
                a->bits[bit / 64] |= m;
                a->n_used_ports++;
        } else {
                a->bits[bit / 64] &= ~m;
                a->n_used_ports--;
        }
}

/* First zero bit in [from, to), or -1. */
static int32_t scan(const struct sched_agent *a, uint32_t from, uint32_t to) {
        uint32_t w = from / 64;
        uint64_t word = ~a->bits[w] & (~0ULL << (from % 64));
        for (;;) {
                if (word) {
                        uint32_t bit = w * 64 + (uint32_t)__builtin_ctzll(word);
                        return bit < to ? (int32_t)bit : -1;
                }
                if (++w * 64 >= to)
                        return -1;
                word = ~a->bits[w];
        }
}

int32_t ports_find_free(const struct sched_agent *a, uint32_t start) {
        if (a->n_used_ports >= a->n_bits)
                return -1;
        if (start >= a->n_bits)
                start = 0;
        int32_t r = scan(a, start, a->n_bits);
        if (r < 0 && start > 0)
                r = scan(a, 0, start);
        return r;
}
