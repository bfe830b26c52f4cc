/* SPDX-License-Identifier: MIT */
/*
 * libtdp test kit: a host page pool (struct tdp_mm_ops), a recording TLB
 * (struct tdp_tlb_ops) sharing one ordered event log with the pool,
 * independent reference walkers (arm64 stage 2, Intel EPT) over the raw
 * table memory, a page-granular model of the expected translations, and
 * check helpers.
 *
 * The reference walkers (tdp_tk_ref_arm64 in ref_arm64.c, tdp_tk_ref_ept in
 * ref_x86.c) are written from docs/formats.md §A and §E and share no
 * code with lib/. They are the kit's only descriptor decoders: the
 * snapshots below are built on them (ref.c) and report every outcome the
 * hardware would not accept as an "anomaly".
 */
#ifndef TDP_TESTS_KIT_INTERNAL_H
#define TDP_TESTS_KIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tdp/tdp.h>
#include <tdp/testkit.h>

/* A bounded text builder for the walkers' `why` (text.c). */
struct tk_text {
	char *p;
	size_t n, cap;
};
void tk_text_reset(struct tk_text *t);
void tk_text_str(struct tk_text *t, const char *s);
void tk_text_hex(struct tk_text *t, uint64_t v); /* 0x... */
void tk_text_dec(struct tk_text *t, uint64_t v);

/* ------------------------------------------------------------------ */
/* Event log                                                           */

enum tk_ev_kind {
	TK_EV_ALLOC = 1,
	TK_EV_FREE,
	TK_EV_FLUSH_RANGE,
	TK_EV_FLUSH_ALL,
};

struct tk_event {
	uint64_t seq;
	enum tk_ev_kind kind;
	uint64_t a;  /* ALLOC/FREE: pa; FLUSH_RANGE: gpa */
	uint64_t b;  /* ALLOC/FREE: size; FLUSH_RANGE: size */
	int level;   /* FLUSH_RANGE: level hint */
	bool tables; /* FLUSH_RANGE: tables flag */
};

/* A probe records, at every flush that covers it, whether it was mapped. */
struct tk_probe_hit {
	size_t event; /* index of the flush event in the log */
	size_t probe; /* index into env->probes */
	bool mapped;  /* reference translation existed at the time of the flush */
};

/* ------------------------------------------------------------------ */
/* Pool + TLB environment                                              */

#define TK_NR_ORDERS 9 /* block sizes 4 KiB << 0 .. 4 KiB << 8 (1 MiB) */
/* the largest block, and the alignment tk_env_new needs of pa_base */
#define TK_POOL_MAX_ALIGN (4096ull << (TK_NR_ORDERS - 1))

struct tdp_tk_pool {
	/* pool */
	uint8_t *base;
	size_t arena_size;
	uint64_t pa_base;
	size_t bump;                      /* bytes of the arena handed out so far */
	void *freelists;                  /* per-order lists of free block offsets */
	void *map_raw;                    /* the mapping as returned by mmap */
	uint8_t *meta;                    /* per 4 KiB of arena: 0 none, 1+order: block head */
	/* counters */
	size_t out_blocks, out_bytes;
	size_t allocs, frees, failed_allocs;
	size_t errors; /* bad frees: unknown block, wrong size, double free */
	char first_error[160];
	/* fault injection */
	long fail_countdown;  /* < 0: off; 0: the next allocation fails */
	bool fail_sticky;     /* keep failing after the countdown fired */
	bool fail_all;
	bool fail_fired;
	/* log */
	struct tk_event *ev;
	size_t nr_ev, cap_ev;
	uint64_t seq;
	bool log_allocs; /* record ALLOC events too */
	/* BBM probes */
	const struct tdp_pgtable *watch;
	uint64_t *probes;
	size_t nr_probes;
	struct tk_probe_hit *hits;
	size_t nr_hits, cap_hits;
	/* tlb callback counters */
	size_t flush_ranges, flush_alls;
	/* called before every free (the TLB model) */
	void (*on_free)(void *ctx, uint64_t pa, size_t size);
	void *on_free_ctx;
	int last_order; /* memory reader's lookup hint */
};

extern const struct tdp_mm_ops tk_mm_linear; /* zalloc_table/free_table only: cfg.linear_offset */
extern const struct tdp_mm_ops tk_mm_xlate;  /* with virt_to_phys/phys_to_virt */
extern const struct tdp_tlb_ops tk_tlb;

#define TK_PA_BASE_DEFAULT 0x40000000ull
#define TK_ARENA_DEFAULT   (512ull << 20)

/* Create an environment (arena reserved with MAP_NORESERVE). NULL on failure. */
struct tdp_tk_pool *tk_env_new(uint64_t pa_base, size_t arena_size);
void tk_env_free(struct tdp_tk_pool *env);

uintptr_t tk_linear_offset(const struct tdp_tk_pool *env);
void *tk_pa_to_va(const struct tdp_tk_pool *env, uint64_t pa);
uint64_t tk_va_to_pa(const struct tdp_tk_pool *env, const void *va);
/* true if [pa, pa + size) is exactly one live block of the pool */
bool tk_pool_live(const struct tdp_tk_pool *env, uint64_t pa, size_t size);

/* Fault injection. */
void tk_fail_nth(struct tdp_tk_pool *env, long n);  /* only the n-th allocation from now (0 = next) */
void tk_fail_from(struct tdp_tk_pool *env, long n); /* the n-th and every later one */
void tk_fail_all(struct tdp_tk_pool *env, bool on);
void tk_fail_off(struct tdp_tk_pool *env);

/* Event log. */
size_t tk_log_mark(const struct tdp_tk_pool *env);
size_t tk_log_count(const struct tdp_tk_pool *env, size_t mark, enum tk_ev_kind kind);
void tk_log_clear(struct tdp_tk_pool *env);
void tk_log_dump(const struct tdp_tk_pool *env, size_t mark);

/* Probes: watch `pgt`, record at each flush whether each probe was mapped. */
void tk_probes_set(struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, const uint64_t *gpas,
		   size_t n);
void tk_probes_clear(struct tdp_tk_pool *env);

/* Fill cfg for arm64 stage-2 with the pool in linear-offset mode. */
void tk_config(struct tdp_tk_pool *env, struct tdp_config *cfg, unsigned int granule_shift,
	       unsigned int ia_bits, unsigned int oa_bits);
/* Same with virt_to_phys/phys_to_virt (linear_offset poisoned). */
void tk_config_xlate(struct tdp_tk_pool *env, struct tdp_config *cfg, unsigned int granule_shift,
		     unsigned int ia_bits, unsigned int oa_bits);

/*
 * TLB model (tlbmodel.c): call `ops` with `ctx` first at every flush the
 * model receives (e.g. tk_tlb with the pool, to keep the event log and the
 * probes). NULL ops: stop forwarding.
 */
void tk_tlb_model_forward(struct tdp_tk_tlb *tlb, const struct tdp_tlb_ops *ops, void *ctx);

/* ------------------------------------------------------------------ */
/* Configurations with hand-computed geometry (docs/formats.md §E.1,  */
/* §A.1, §A.7) and what the kit knows about each format (cfgs.c)       */

struct tk_cfgdesc {
	const char *name;
	enum tdp_format format;
	uint32_t flags;           /* tdp_config.flags every table of the configuration gets */
	unsigned int leaf_levels; /* tdp_config.leaf_levels (0: every level the format allows) */
	unsigned int gshift, ia, oa;
	unsigned int levels;      /* neutral levels */
	unsigned int root_tables; /* concatenated at the start level */
	unsigned int root_bits;
	size_t root_size;
	uint32_t leaf_mask;       /* neutral levels that may hold a leaf (after leaf_levels) */
	unsigned int sl0;         /* arm64: VTCR_EL2.SL0 */
	unsigned int ps;          /* arm64: VTCR_EL2.PS */
};

extern const struct tk_cfgdesc tk_cfgs_all[];  /* every arm64 config with known geometry */
extern const size_t tk_nr_cfgs_all;
extern const struct tk_cfgdesc tk_cfgs_ept[];  /* the EPT configs */
extern const size_t tk_nr_cfgs_ept;
extern const struct tk_cfgdesc tk_cfgs_riscv[]; /* the RISC-V G-stage configs */
extern const size_t tk_nr_cfgs_riscv;
/* the configs the operation tests run: a selection of tk_cfgs_all, every EPT and RISC-V one */
extern const struct tk_cfgdesc *const tk_cfgs_ops[];
extern const size_t tk_nr_cfgs_ops;

/* Independent geometry: 0, or -1 when the kit thinks the config is invalid. */
struct tk_geo {
	unsigned int levels, page_shift, bits, root_bits, root_tables;
	size_t table_size, root_size;
	uint32_t leaf_mask;
};
int tk_arm64_geo(unsigned int gshift, unsigned int ia, unsigned int oa, struct tk_geo *g);
/* EPT (docs/formats.md §E.1): ia 48 (4 levels) or 57 (5 levels), MAXPHYADDR 36..52. */
int tk_ept_geo(unsigned int ia, unsigned int oa, struct tk_geo *g);
/* RISC-V (docs/formats.md §R.2): ia 41/50/59 (Sv39x4/48x4/57x4), oa 32..56. */
int tk_riscv_geo(unsigned int ia, unsigned int oa, struct tk_geo *g);
/*
 * The geometry of a configuration of any format (format, granule_shift,
 * ia_bits, oa_bits), with the leaf mask cut by cfg->leaf_levels.
 */
int tk_geo_cfg(const struct tdp_config *cfg, struct tk_geo *g);
uint64_t tk_level_size(const struct tk_geo *g, unsigned int level);

/*
 * Format-neutral needs of a test (struct tcase): the fixture turns them
 * into the configuration flags of the format at hand.
 */
#define TK_FEAT_SPLIT_X (1u << 0) /* TDP_PROT_XP != TDP_PROT_XU: arm64 FEAT_XNX, EPT MBEC */
uint32_t tk_feat_flags(enum tdp_format format, uint32_t feats);
/* Whether the format can offer those needs at all (RISC-V: no split execute). */
bool tk_feat_supported(enum tdp_format format, uint32_t feats);

/* New entries (invalid -> valid) must be invalidated too on a table of cfg. */
bool tk_flush_on_install(const struct tdp_config *cfg);
/* The format's valid -> valid changes of output, size or memory type must break first. */
bool tk_format_bbm(enum tdp_format format);
/*
 * Whether a table of cfg (format and flags) can hold a leaf with this
 * neutral attribute word, from the architecture (docs/formats.md §E.3, §A.4): on
 * EPT a leaf needs R (or an execute bit with the execute-only capability),
 * W needs R, XP != XU needs MBEC; on arm64 every permission set is valid,
 * XP != XU needs FEAT_XNX. Format-specific bits 12..15 are not neutral:
 * false.
 */
bool tk_attr_ok(const struct tdp_config *cfg, tdp_attr_t attr);
/*
 * Whether protect(clear, set) can be expressed on every leaf the table may
 * hold: for every permission set p that tk_attr_ok accepts, (p & ~clear) |
 * set is accepted too (tdp/pgtable.h's rule, nothing stricter).
 */
bool tk_prot_change_ok(const struct tdp_config *cfg, tdp_attr_t clear, tdp_attr_t set);
/*
 * The nearest attribute word a table of cfg takes, for tests written once for
 * every format: a memory type it lacks becomes the next weaker one (strict
 * device -> device -> non-cacheable -> write-back), software bits are cut to
 * the format's width (RISC-V: two). Permissions are left as they are.
 */
tdp_attr_t tk_attr_fit(const struct tdp_config *cfg, tdp_attr_t attr);
/* The value of an entry that maps nothing, as the format writes it for cfg. */
uint64_t tk_empty_pte(const struct tdp_config *cfg);
/* Whether the hardware takes pte as present (valid) at all. */
bool tk_pte_present(const struct tdp_config *cfg, uint64_t pte);
/* The neutral level of a leaf the format's reference walker reports at architectural level arch. */
unsigned int tk_neutral_level(enum tdp_format format, int arch);

/* ------------------------------------------------------------------ */
/* Reference walker and snapshots                                      */

/*
 * What every walker shares: the access word is one of READ/WRITE/EXEC (USER
 * only with one of them) or a PROBE; tk_xlate_start sets every field of x to
 * "OK, nothing yet" (cheaper than clearing the whole struct on each walk)
 * and returns the text builder for x->why.
 */
bool tk_access_valid(unsigned int access);
struct tk_text tk_xlate_start(struct tdp_tk_xlate *x);

/*
 * tdp_tk_ref_arm64 with a hint for iterators: *resume (optional) receives
 * the first IPA after x's span, extended over the zero descriptors that
 * follow an invalid one in the same table (they fault the same way through
 * the same tables); 0 when that reaches the top of the address space.
 */
int tk_arm64_walk(const struct tdp_tk_mem *mem, const struct tdp_tk_arm64_regs *regs, uint64_t ipa,
		  unsigned int access, struct tdp_tk_xlate *x, uint64_t *resume);

struct tk_leaf {
	uint64_t gpa, size, pa;
	unsigned int level;
	uint64_t pte;
	tdp_attr_t attr;
};

struct tk_table {
	uint64_t pa;   /* table page (or root) */
	uint64_t gpa;  /* first gpa covered */
	uint64_t size; /* bytes covered */
	unsigned int level;
};

struct tk_snap {
	struct tk_leaf *leaves;
	size_t nr, cap;
	struct tk_table *tables; /* non-root tables reachable */
	size_t nr_tables, cap_tables;
	size_t empty_tables;
	size_t anomalies;
	char first_anomaly[200];
};

/*
 * Walk the whole input range with the reference walker of the table's
 * format (registers composed by the kit from the configuration,
 * cross-checked with the library's tdp_arm64_vtcr/vttbr or tdp_x86_eptp
 * when the table is a real one): every leaf, every table page reached
 * (pre-order), and as anomalies every MALFORMED, EXTERNAL_ABORT,
 * ADDRESS_SIZE, ACCESS_FLAG or EPT_MISCONFIG outcome, every present entry
 * that faults (reserved type, block at a wrong level), non-present entries
 * of the root or of a reached table that are not exactly the format's
 * empty value (tk_empty_pte), table pages that are not live pool blocks of
 * one table size or are linked twice, and non-zero root slots beyond the
 * input range.
 */
void tk_snap_take(const struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, struct tk_snap *s);
void tk_snap_free(struct tk_snap *s);
/* Leaves and table pointers identical (raw pte, level, gpa). */
bool tk_snap_same(const struct tk_snap *a, const struct tk_snap *b);
/* Reference translation of one address: 0 or -TDP_ENOENT; anomalies -> -TDP_EINVAL */
int tk_ref_translate(const struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, uint64_t gpa,
		     struct tk_leaf *leaf);
/* Decode a leaf descriptor's attributes the way the hardware reads them. */
tdp_attr_t tk_arm64_decode_attr(uint64_t pte, bool xnx);

/* Lookup-based snapshot: results of tdp_lookup for a list of addresses. */
struct tk_lsnap {
	size_t n;
	int *rc;
	struct tdp_lookup_result *res;
};
void tk_lsnap_take(const struct tdp_pgtable *pgt, const uint64_t *gpas, size_t n, struct tk_lsnap *s);
bool tk_lsnap_same(const struct tk_lsnap *a, const struct tk_lsnap *b);
void tk_lsnap_free(struct tk_lsnap *s);
/* Addresses: every `step` bytes of [start, end), plus end - 1. Caller frees. */
uint64_t *tk_addr_range(uint64_t start, uint64_t end, uint64_t step, size_t *n);

/* ------------------------------------------------------------------ */
/* Model of expected translations                                      */

struct tk_ext {
	uint64_t gpa, size, hpa;
	tdp_attr_t attr;
};

struct tk_model {
	struct tk_ext *v;
	size_t n, cap;
};

void tk_model_init(struct tk_model *m);
void tk_model_free(struct tk_model *m);
void tk_model_map(struct tk_model *m, uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr);
void tk_model_unmap(struct tk_model *m, uint64_t gpa, uint64_t size);
void tk_model_protect(struct tk_model *m, uint64_t gpa, uint64_t size, tdp_attr_t clear,
		      tdp_attr_t set);
/* Normalised extents of a snapshot (merged where contiguous and equal). */
void tk_model_from_snap(struct tk_model *m, const struct tk_snap *s);
bool tk_model_equal(const struct tk_model *a, const struct tk_model *b, char *why, size_t whylen);
/* Is any page of [gpa, gpa + size) mapped in the model? */
bool tk_model_any(const struct tk_model *m, uint64_t gpa, uint64_t size);
/* Append an extent after the last one (merging when contiguous and equal). */
void tk_model_append(struct tk_model *m, uint64_t gpa, uint64_t size, uint64_t hpa, tdp_attr_t attr);
/* out = the part of m inside [lo, hi). */
void tk_model_clip(const struct tk_model *m, uint64_t lo, uint64_t hi, struct tk_model *out);

/* ------------------------------------------------------------------ */
/* Change reports replayed onto a model (replay.c)                     */

struct tk_replay {
	struct tk_model m;     /* the leaves as the reports alone made them */
	unsigned int op;       /* TDP_OP_* of the call running; 0: no call may report */
	uint64_t lo, hi;       /* the span its reports may touch */
	size_t count;          /* reports since tk_replay_begin */
	size_t added, removed, reshaped, dirty_removed; /* since init */
	bool bad;              /* a report contradicted the model or the call */
	char why[256];
};

void tk_replay_init(struct tk_replay *r);
void tk_replay_free(struct tk_replay *r);
/* Point cfg's change callbacks at r (before tdp_pgtable_init). */
void tk_replay_config(struct tk_replay *r, struct tdp_config *cfg);
/* A call with op (0: one that must not report) whose changes lie in [lo, hi) begins. */
void tk_replay_begin(struct tk_replay *r, unsigned int op, uint64_t lo, uint64_t hi);

/* ------------------------------------------------------------------ */
/* Checks (cmocka assertions inside)                                   */

/*
 * Structural invariants: no anomaly, no empty non-root table, every table
 * is a live pool block of the right size, the pool holds exactly root +
 * tables + `extra_blocks` (e.g. memory-cache pages), no pool error,
 * geometry of pgt equals the kit's, tdp_lookup agrees with the reference
 * walker on every leaf (sampled) and on the holes between them.
 */
void tk_check_table(struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, size_t extra_blocks);
/* The table translates exactly as the model says (and tk_check_table). */
void tk_check_model(struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, const struct tk_model *m,
		    size_t extra_blocks);
/*
 * Leaves inside [gpa, gpa + size) are exactly the largest-leaf
 * decomposition for hpa with the level cap `max_level` (-1: none), each
 * with `attr`.
 */
void tk_check_layout(const struct tdp_tk_pool *env, const struct tdp_pgtable *pgt, uint64_t gpa,
		     uint64_t hpa, uint64_t size, tdp_attr_t attr, int max_level);
/* Largest-leaf decomposition: fills levels[] (up to max), returns count. */
size_t tk_expect_leaves(const struct tdp_pgtable *pgt, uint64_t gpa, uint64_t hpa, uint64_t size,
			int max_level, struct tk_leaf *out, size_t max);

/*
 * TLB checks for the operation logged since `mark`, given reference
 * snapshots before and after it:
 * - every changed translation (removed, other output, other memory type,
 *   fewer permissions) of a level-L leaf is covered by the union of the
 *   flush ranges whose hint is L or TDP_LEVEL_ANY (or tables = true);
 * - every leaf replaced without a translation change (split, merge) is
 *   intersected by such a flush;
 * - every table page of `before` freed in the operation was freed after a
 *   flush with tables = true (or flush_all);
 * - with probes set: every probe whose valid leaf was replaced by another
 *   valid leaf with a different output address or level was seen unmapped
 *   by some flush (break-before-make).
 */
void tk_check_flushes(const struct tdp_tk_pool *env, const struct tk_snap *before,
		      const struct tk_snap *after, size_t mark);

/* destroy: returns 0, one flush_all before every free, pool empty, no error. */
void tk_destroy_check(struct tdp_tk_pool *env, struct tdp_pgtable *pgt);

/* Pool has nothing outstanding and no error. */
void tk_check_pool_clean(const struct tdp_tk_pool *env);

/* ------------------------------------------------------------------ */
/* Fixture: one table on one configuration, with a model and checked   */
/* operations                                                          */

struct tk_fx {
	const struct tk_cfgdesc *cd;
	struct tdp_tk_pool *env;
	struct tdp_pgtable pgt;
	struct tk_model m;
	struct tk_geo g;
	uint64_t P;       /* page size */
	unsigned int top; /* highest leaf level */
	uint64_t big;     /* its size */
	uint64_t blk;     /* size of level 1 (the first block size) */
	uint64_t base;    /* gpa aligned to 2 * big with room for 4 * big after it */
	uint64_t hbase;   /* hpa aligned to big, != base, with room for 4 * big */
	bool checks;      /* run the full checks after every fx operation (default) */
	/*
	 * The table's TLB callbacks: the TLB model (forwarding to tk_tlb, so
	 * the event log and probes still work), filled around each fx
	 * operation's range before it and checked after it.
	 */
	struct tdp_tk_tlb *tlb;
};

/* Initialise env + table for cd (cfg flags `flags`); asserts success. */
void tk_fx_init(struct tk_fx *fx, const struct tk_cfgdesc *cd, uint32_t flags);
/* Same with cfg.leaf_levels and, if xlate, virt_to_phys/phys_to_virt. */
void tk_fx_init_ex(struct tk_fx *fx, const struct tk_cfgdesc *cd, uint32_t flags,
		   unsigned int leaf_levels, bool xlate);
/* Destroy with checks and free everything. */
void tk_fx_fini(struct tk_fx *fx);

/*
 * Checked operations: snapshot before, call, then on success update the
 * model and check model, structure and flushes; on failure check that
 * nothing changed (leaves, tables, pool, memory cache). Return the rc.
 */
int tk_fx_map(struct tk_fx *fx, uint64_t gpa, uint64_t hpa, uint64_t size, tdp_attr_t attr,
	      uint32_t flags, struct tdp_memcache *mc);
int tk_fx_unmap(struct tk_fx *fx, uint64_t gpa, uint64_t size, struct tdp_memcache *mc);
int tk_fx_protect(struct tk_fx *fx, uint64_t gpa, uint64_t size, tdp_attr_t clear, tdp_attr_t set,
		  struct tdp_memcache *mc);
int tk_fx_split(struct tk_fx *fx, uint64_t gpa, uint64_t size, unsigned int target,
		struct tdp_memcache *mc);
int tk_fx_zap(struct tk_fx *fx, uint64_t gpa, uint64_t size, uint64_t budget,
	      struct tdp_zap_result *res);

#endif
