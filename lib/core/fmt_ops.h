/* SPDX-License-Identifier: MIT */
/*
 * The per-format dispatch table. variant.c fills one for every compiled
 * format variant; api.c makes the one indirect call per public call through
 * it after validating the arguments.
 */
#ifndef TDP_CORE_FMT_OPS_H
#define TDP_CORE_FMT_OPS_H

#include <tdp/tdp.h>

/*
 * Hidden: the tables are internal, and a single-variant build relies on the
 * compiler reading its table's constant entries (no interposition).
 */
#define TDP_INTERNAL __attribute__((visibility("hidden")))

struct tdp_fmt_ops {
	int (*map)(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t hpa, uint64_t size,
		   tdp_attr_t attr, uint32_t flags, struct tdp_memcache *mc);
	int (*fault)(struct tdp_pgtable *pgt, uint64_t fault_gpa, const struct tdp_fault_region *rg,
		     tdp_attr_t attr, uint32_t flags, struct tdp_memcache *mc,
		     struct tdp_fault_result *res);
	int (*unmap)(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, struct tdp_memcache *mc);
	int (*zap)(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, uint64_t budget,
		   struct tdp_zap_result *res);
	int (*split)(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, unsigned int target,
		     struct tdp_memcache *mc);
	int (*protect)(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, tdp_attr_t clear,
		       tdp_attr_t set, struct tdp_memcache *mc);
	int (*young)(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, bool *young);
	int (*dirty)(struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, uint64_t *bitmap);
	/* Give a freshly allocated (zeroed) root the format's empty value; fill prot_tmpl. */
	void (*prepare)(struct tdp_pgtable *pgt);
	int (*lookup)(const struct tdp_pgtable *pgt, uint64_t gpa, struct tdp_lookup_result *res);
	int (*walk)(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t size, unsigned int visits,
		    tdp_walk_fn fn, void *arg);
	void (*destroy)(struct tdp_pgtable *pgt);
	void (*free_unlinked)(const struct tdp_pgtable *pgt, void *table, unsigned int level);
	void (*iter_start)(struct tdp_iter *it, const struct tdp_pgtable *pgt, uint64_t start,
			   uint64_t end, unsigned int min_level);
	void (*iter_next)(struct tdp_iter *it);
	void (*iter_restart)(struct tdp_iter *it);
	void (*iter_entry)(const struct tdp_iter *it, struct tdp_entry *e);
	/* Is (old & ~clear) | set expressible for every attribute old it may meet? */
	bool (*prot_change_ok)(const struct tdp_pgtable *pgt, tdp_attr_t clear, tdp_attr_t set);
};

/*
 * A variant's entry points by name, for builds that call them directly
 * (api.c: several arm64 granules and no other format). NAME(op) spells a
 * variant's name for op, e.g. TDP_ARM64_4K(map) is tdp__arm64_4k_map.
 */
#define TDP_VARIANT_PROTOS(NAME)                                                            \
	TDP_INTERNAL int NAME(map)(struct tdp_pgtable *, uint64_t, uint64_t, uint64_t,      \
				   tdp_attr_t, uint32_t, struct tdp_memcache *);            \
	TDP_INTERNAL int NAME(fault)(struct tdp_pgtable *, uint64_t,                        \
				     const struct tdp_fault_region *, tdp_attr_t, uint32_t, \
				     struct tdp_memcache *, struct tdp_fault_result *);     \
	TDP_INTERNAL int NAME(unmap)(struct tdp_pgtable *, uint64_t, uint64_t,              \
				     struct tdp_memcache *);                                \
	TDP_INTERNAL int NAME(zap)(struct tdp_pgtable *, uint64_t, uint64_t, uint64_t,      \
				   struct tdp_zap_result *);                                \
	TDP_INTERNAL int NAME(split)(struct tdp_pgtable *, uint64_t, uint64_t, unsigned int, \
				     struct tdp_memcache *);                                \
	TDP_INTERNAL int NAME(protect)(struct tdp_pgtable *, uint64_t, uint64_t, tdp_attr_t, \
				       tdp_attr_t, struct tdp_memcache *);                  \
	TDP_INTERNAL int NAME(young)(struct tdp_pgtable *, uint64_t, uint64_t, bool *);     \
	TDP_INTERNAL int NAME(dirty)(struct tdp_pgtable *, uint64_t, uint64_t, uint64_t *); \
	TDP_INTERNAL void NAME(prepare)(struct tdp_pgtable *);                              \
	TDP_INTERNAL int NAME(lookup)(const struct tdp_pgtable *, uint64_t,                 \
				      struct tdp_lookup_result *);                          \
	TDP_INTERNAL int NAME(walk)(const struct tdp_pgtable *, uint64_t, uint64_t,         \
				    unsigned int, tdp_walk_fn, void *);                     \
	TDP_INTERNAL void NAME(destroy)(struct tdp_pgtable *);                              \
	TDP_INTERNAL void NAME(free_unlinked)(const struct tdp_pgtable *, void *, unsigned int); \
	TDP_INTERNAL void NAME(iter_start)(struct tdp_iter *, const struct tdp_pgtable *,   \
					   uint64_t, uint64_t, unsigned int);               \
	TDP_INTERNAL void NAME(iter_next)(struct tdp_iter *);                               \
	TDP_INTERNAL void NAME(iter_restart)(struct tdp_iter *);                            \
	TDP_INTERNAL void NAME(iter_entry)(const struct tdp_iter *, struct tdp_entry *);    \
	TDP_INTERNAL bool NAME(prot_change_ok)(const struct tdp_pgtable *, tdp_attr_t, tdp_attr_t)

#endif
