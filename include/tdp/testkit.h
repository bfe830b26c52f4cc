/* SPDX-License-Identifier: MIT */
/** @file
 * libtdp test kit: what a hypervisor's own tests need to prove its stage-2
 * tables right on a laptop. Host only (it uses libc); link `tdp-testkit`
 * (pkg-config tdp-testkit, or the Meson dependency tdp_testkit_dep).
 *
 * - A page pool implementing struct tdp_mm_ops, counting pages, detecting
 *   bad frees and failing chosen allocations.
 * - Reference walkers, written from the architecture specifications and
 *   sharing no code with lib/: given raw table memory and the registers the
 *   hardware would be given, they translate an access or report the fault.
 * - A TLB-coherence model implementing struct tdp_tlb_ops: it caches
 *   translations the way a TLB would and reports every one that the library
 *   changed without invalidating it, and every table freed under one.
 * - A differential driver: random operation sequences checked after every
 *   step against a page-granular model, through the reference walker, the
 *   TLB model and the pool's leak count; the same driver behind fuzzers.
 *
 * Functions return 0 or a negative TDP_E* code unless said otherwise; a
 * NULL object is refused (-TDP_EINVAL) or, for void functions, ignored.
 */
#ifndef TDP_TESTKIT_H
#define TDP_TESTKIT_H

#include <tdp/export.h>
#include <tdp/tdp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Physical memory as the reference walkers read it                    */
/* ------------------------------------------------------------------ */

/** Read access to physical memory, for the reference walkers. */
struct tdp_tk_mem {
	/** `size` readable bytes at physical address pa, or NULL if nothing is there. */
	const void *(*ptr)(void *ctx, uint64_t pa, size_t size);
	void *ctx; /**< passed to ptr */
};

/* ------------------------------------------------------------------ */
/* Page pool                                                            */
/* ------------------------------------------------------------------ */

struct tdp_tk_pool;

/**
 * A pool over one reserved arena (mmap, MAP_NORESERVE) of arena_size bytes
 * whose physical addresses start at pa_base (any 1 MiB-aligned value; keep
 * pa_base + arena_size under 2^oa_bits of the tables it serves). Blocks are
 * power-of-two sizes from 4 KiB to 1 MiB, aligned to their size.
 * @return the pool, or NULL if the arena cannot be reserved or the arguments are bad.
 */
TDP_API struct tdp_tk_pool *tdp_tk_pool_new(uint64_t pa_base, size_t arena_size);
/** Free the pool and its arena (tables still handed out go with it). */
TDP_API void tdp_tk_pool_delete(struct tdp_tk_pool *pool);

/** Set cfg->mm, mm_ctx and linear_offset (no translation callbacks). */
TDP_API void tdp_tk_pool_config(struct tdp_tk_pool *pool, struct tdp_config *cfg);
/** Same, with virt_to_phys/phys_to_virt callbacks instead of the offset. */
TDP_API void tdp_tk_pool_config_xlate(struct tdp_tk_pool *pool, struct tdp_config *cfg);

/** A pool's counters (tdp_tk_pool_stats()). */
struct tdp_tk_pool_stats {
	size_t out_blocks;            /**< blocks handed out and not given back */
	size_t out_bytes;             /**< their bytes */
	size_t allocs;                /**< successful allocations */
	size_t frees;                 /**< successful frees */
	size_t failed_allocs;         /**< injected or out-of-arena failures */
	size_t errors;                /**< bad frees: unknown block, wrong size, twice */
};
/** Fill *st with the pool's counters. */
TDP_API void tdp_tk_pool_stats(const struct tdp_tk_pool *pool, struct tdp_tk_pool_stats *st);
/** Text of the first error, or "" if none. */
TDP_API const char *tdp_tk_pool_first_error(const struct tdp_tk_pool *pool);

/** Fault injection: fail only the n-th allocation from now (0 = the next one). */
TDP_API void tdp_tk_pool_fail_nth(struct tdp_tk_pool *pool, long n);
/** Fail the n-th allocation from now and every later one. */
TDP_API void tdp_tk_pool_fail_from(struct tdp_tk_pool *pool, long n);
/** Stop injecting failures. */
TDP_API void tdp_tk_pool_fail_off(struct tdp_tk_pool *pool);

/** Is [pa, pa + size) exactly one block the pool handed out? */
TDP_API bool tdp_tk_pool_live(const struct tdp_tk_pool *pool, uint64_t pa, size_t size);
/** The virtual address of physical address pa, or NULL if pa is not in the pool's arena. */
TDP_API void *tdp_tk_pool_va(const struct tdp_tk_pool *pool, uint64_t pa);
/** The physical address of va, or ~0 if va is not in the pool's arena. */
TDP_API uint64_t tdp_tk_pool_pa(const struct tdp_tk_pool *pool, const void *va);
/** A reader over the pool's live blocks, for the reference walkers. */
TDP_API struct tdp_tk_mem tdp_tk_pool_mem(struct tdp_tk_pool *pool);
/**
 * Call fn(ctx, pa, size) before every free (the TLB model uses it). A pool
 * has one such hook: a second call replaces the first; NULL removes it.
 */
TDP_API void tdp_tk_pool_on_free(struct tdp_tk_pool *pool,
				 void (*fn)(void *ctx, uint64_t pa, size_t size),
				 void *ctx);

/* ------------------------------------------------------------------ */
/* Reference walkers                                                    */
/* ------------------------------------------------------------------ */

/* Access kinds (combine one of READ/WRITE/EXEC with USER if needed). */
#define TDP_TK_PROBE 0x0u /**< no access check: report the translation only */
#define TDP_TK_READ  0x1u /**< a read */
#define TDP_TK_WRITE 0x2u /**< a write */
#define TDP_TK_EXEC  0x4u /**< an instruction fetch */
#define TDP_TK_USER  0x8u /**< from the guest's user level (execute-permission split) */

/** The outcome of a reference walk. */
enum tdp_tk_result {
	TDP_TK_OK = 0,            /**< translated, access allowed */
	TDP_TK_TRANSLATION_FAULT, /**< invalid/reserved descriptor, input out of range, no leaf there */
	TDP_TK_ADDRESS_SIZE_FAULT, /**< output or next-table address above the output size */
	TDP_TK_ACCESS_FLAG_FAULT,  /**< arm64 access flag 0, RISC-V A or D clear without ADUE */
	TDP_TK_PERMISSION_FAULT,   /**< the leaf does not allow the access */
	TDP_TK_EXTERNAL_ABORT,    /**< a table the walk needs is not in memory */
	TDP_TK_EPT_MISCONFIG,     /**< x86 EPT misconfiguration */
	TDP_TK_GUEST_PAGE_FAULT,  /**< RISC-V guest-page fault */
	/**
	 * Something the architecture leaves unpredictable or that no
	 * correct library writes (RES0 bits set, a block address with bits
	 * below its size, a register combination the hardware rejects).
	 */
	TDP_TK_MALFORMED,
};

/**
 * Conventions: `level` is the level of the leaf or of the descriptor that
 * faulted; for a table that cannot be read (EXTERNAL_ABORT) it is the level
 * of that table and `pte` is the descriptor pointing to it; for a register
 * problem (MALFORMED before any descriptor) it is the start level, or 0 if
 * the start level could not be decoded, and span_size is 0 (everything).
 * An input above the input size faults at the start level with the span
 * [2^input bits, 2^64).
 */
struct tdp_tk_xlate {
	enum tdp_tk_result result; /**< the outcome */
	int level;          /**< the architecture's own level of the leaf or of the fault */
	uint64_t span_base; /**< what the leaf, or the entry that faulted, covers */
	uint64_t span_size; /**< its size (0: everything, see above) */
	uint64_t hpa;       /**< OK: host address of the accessed byte */
	tdp_attr_t attr;    /**< OK or PERMISSION_FAULT: what the leaf grants (neutral form) */
	uint64_t pte;       /**< the leaf, or the descriptor that faulted */
	uint64_t pte_pa;    /**< physical address of that descriptor (for A/D tests) */
	unsigned int nr_tables; /**< entries of tables[] filled */
	uint64_t tables[TDP_MAX_LEVELS + 1]; /**< table pages read, root first (walk-cache content) */
	char why[120];      /**< for faults and MALFORMED: what the walker saw */
};

/** A short human name of a result ("permission fault", ...). */
TDP_API const char *tdp_tk_result_name(enum tdp_tk_result r);

/* arm64 stage 2: the walk that VTCR_EL2 and VTTBR_EL2 configure. */
#define TDP_TK_ARM64_FEAT_XNX (1u << 0) /**< the CPU implements FEAT_XNX */
/** What an arm64 stage-2 walk is configured by. */
struct tdp_tk_arm64_regs {
	uint64_t vtcr;     /**< VTCR_EL2 */
	uint64_t vttbr;    /**< VTTBR_EL2 */
	uint32_t features; /**< TDP_TK_ARM64_FEAT_* */
};

/**
 * Translate ipa for `access` as an arm64 stage-2 walk would. The model CPU
 * has a physical address range of at least 48 bits (52 when PS says so),
 * HCR_EL2.FWB = 0, no FEAT_LPA2 (DS, SL2 set: MALFORMED) and no hardware
 * dirty state (HD set: MALFORMED). Without FEAT_XNX, descriptor bit 53 is
 * RES0 and a leaf with it set is MALFORMED.
 * @return 0 with the outcome in *x, or -TDP_EINVAL for NULL arguments or
 * unknown access bits.
 */
TDP_API int tdp_tk_ref_arm64(const struct tdp_tk_mem *mem, const struct tdp_tk_arm64_regs *regs,
			     uint64_t ipa, unsigned int access, struct tdp_tk_xlate *x);

/* EPT capabilities of the model CPU (IA32_VMX_EPT_VPID_CAP) and controls */
#define TDP_TK_X86_CAP_EXEC_ONLY (1u << 0) /**< execute-only entries allowed (bit 0) */
#define TDP_TK_X86_CAP_2M        (1u << 1) /**< 2 MiB pages (bit 16) */
#define TDP_TK_X86_CAP_1G        (1u << 2) /**< 1 GiB pages (bit 17) */
#define TDP_TK_X86_MBEC          (1u << 3) /**< secondary control bit 22 is on */
/** What an EPT walk is configured by, and the CPU it runs on. */
struct tdp_tk_x86_regs {
	uint64_t eptp;          /**< the EPT pointer */
	uint32_t caps;          /**< TDP_TK_X86_* */
	unsigned int maxphyaddr; /**< CPUID 0x80000008 EAX[7:0], e.g. 46 or 52 */
};

/**
 * Intel EPT: the walk an EPTP configures, on a CPU with these capabilities
 * and MAXPHYADDR. A not-present entry gives TDP_TK_TRANSLATION_FAULT (an EPT
 * violation), a forbidden access TDP_TK_PERMISSION_FAULT (also an EPT
 * violation; `attr` holds the combined permissions), a misconfiguration
 * (W without R, execute-only without the capability, reserved memory type,
 * reserved bits, a large page where the CPU has none) TDP_TK_EPT_MISCONFIG.
 * Permissions are the AND over every entry of the walk. TDP_TK_USER selects
 * the user-execute bit (10) when MBEC is on.
 * @return 0 with the outcome in *x, or -TDP_EINVAL for NULL arguments,
 * unknown access or capability bits, or maxphyaddr outside 36..52.
 */
TDP_API int tdp_tk_ref_ept(const struct tdp_tk_mem *mem, const struct tdp_tk_x86_regs *regs,
			   uint64_t gpa, unsigned int access, struct tdp_tk_xlate *x);

#define TDP_TK_RISCV_SVPBMT  (1u << 0) /**< Svpbmt present, menvcfg.PBMTE = 1 */
#define TDP_TK_RISCV_SVNAPOT (1u << 1) /**< Svnapot present */
#define TDP_TK_RISCV_ADUE    (1u << 2) /**< Svadu with menvcfg.ADUE = 1: the hart updates A/D */
/** What a G-stage walk is configured by, and the hart it runs on. */
struct tdp_tk_riscv_regs {
	uint64_t hgatp;        /**< the HGATP CSR */
	uint32_t features;     /**< TDP_TK_RISCV_* */
	unsigned int pa_bits;  /**< physical address width of the hart, <= 56 */
};

/**
 * RISC-V G-stage (H extension, RV64): the walk an HGATP configures on a
 * hart with these extensions and this physical address width. MODE 8 / 9 /
 * 10 (Sv39x4 / Sv48x4 / Sv57x4) walks 3 / 4 / 5 levels over a 41 / 50 /
 * 59-bit GPA; levels are RISC-V's own, which are libtdp's neutral ones
 * (0 = 4 KiB pages). Any other MODE, bits 59:58 set or a root not 16 KiB
 * aligned is TDP_TK_MALFORMED; the VMID is ignored.
 *
 * Results: V = 0 is TDP_TK_TRANSLATION_FAULT (a hole when the entry is 0);
 * a GPA above the width TDP_TK_TRANSLATION_FAULT at the root level (the
 * hart raises a guest-page fault). An entry no correct library writes
 * (W without R, reserved bits 60:54, PBMT = 3 or PBMT without Svpbmt, a
 * bad or unsupported N = 1, a misaligned superpage, U = 0 in a leaf, a
 * pointer at level 0 or with U/A/D/PBMT/N set) is TDP_TK_GUEST_PAGE_FAULT;
 * a table or output address at or above 2^pa_bits
 * TDP_TK_ADDRESS_SIZE_FAULT. The 16 entries of a 64 KiB NAPOT group must be
 * identical (A/D aside with ADUE), else TDP_TK_MALFORMED; a NAPOT leaf's
 * span is its 64 KiB group. A read needs R, a write W, a fetch X, else
 * TDP_TK_PERMISSION_FAULT (TDP_TK_USER changes nothing: G-stage takes every
 * access as U-mode). Without ADUE, A = 0 on any access but a PROBE, or D = 0
 * on a write, is TDP_TK_ACCESS_FLAG_FAULT (a guest-page fault on the hart);
 * with ADUE the walker does not write A/D, it only reads.
 *
 * attr: R -> TDP_PROT_R, W -> TDP_PROT_W, X -> TDP_PROT_X (both execute
 * bits); PBMT 0 / 1 / 2 -> TDP_MT_NORMAL_WB / TDP_MT_NORMAL_NC /
 * TDP_MT_DEVICE; RSW (bits 9:8) -> TDP_SW(rsw).
 * @return 0 with the outcome in *x, or -TDP_EINVAL for NULL arguments,
 * unknown access or feature bits, or pa_bits outside 32..56.
 */
TDP_API int tdp_tk_ref_riscv(const struct tdp_tk_mem *mem, const struct tdp_tk_riscv_regs *regs,
			     uint64_t gpa, unsigned int access, struct tdp_tk_xlate *x);

/** A reference walker bound to one table's registers and memory. */
struct tdp_tk_ref {
	enum tdp_format format; /**< which walker */
	struct tdp_tk_mem mem;  /**< the memory it reads */
	/** its registers, as the format names them */
	union {
		struct tdp_tk_arm64_regs arm64;
		struct tdp_tk_x86_regs x86;
		struct tdp_tk_riscv_regs riscv;
	} regs;
};

/**
 * Bind a walker to a libtdp table: its registers come from the library's
 * register helpers (VMID 0), its memory from `mem`. @return 0, or
 * -TDP_EINVAL for NULL or an unsupported format.
 */
TDP_API int tdp_tk_ref_for(struct tdp_tk_ref *ref, const struct tdp_pgtable *pgt,
			   const struct tdp_tk_mem *mem);
/**
 * Translate gpa for `access` with the bound walker (tdp_tk_ref_arm64(),
 * tdp_tk_ref_ept() or tdp_tk_ref_riscv()). @return 0 with the outcome in
 * *x, or -TDP_EINVAL for NULL arguments, an unsupported format or the
 * walker's own refusals.
 */
TDP_API int tdp_tk_ref_translate(const struct tdp_tk_ref *ref, uint64_t gpa, unsigned int access,
				 struct tdp_tk_xlate *x);

/**
 * Visit, in address order, every leaf and every other outcome that is not
 * a hole (a translation fault on an entry the library writes as empty) in
 * [gpa, gpa + size): MALFORMED, external aborts, and valid-looking entries
 * that fault. Holes are skipped a whole faulting entry at a time. fn returns non-zero to stop; that value is
 * returned. *tables (optional) receives the number of distinct table pages
 * the walks passed through (root included), for leak accounting.
 */
TDP_API int tdp_tk_ref_leaves(const struct tdp_tk_ref *ref, uint64_t gpa, uint64_t size,
			      int (*fn)(const struct tdp_tk_xlate *x, void *arg), void *arg,
			      size_t *tables);

/* ------------------------------------------------------------------ */
/* TLB-coherence model                                                  */
/* ------------------------------------------------------------------ */

struct tdp_tk_tlb;

/* Model options */
#define TDP_TK_TLB_BBM (1u << 0) /**< arm64: a valid->valid change of output, memory type or size
				    must be broken (invalid) when its flush comes */

/**
 * A model TLB of up to `capacity` cached translations. Pass it as
 * cfg.tlb_ctx with cfg.tlb = &tdp_tk_tlb_ops, then tdp_tk_tlb_attach() once
 * the table exists. With `pool`, a table freed while a cached walk goes
 * through it is a violation (the model takes the pool's free hook, so use
 * one model per pool). NULL on bad arguments or no memory.
 *
 * Invalidated entries that still translate are walked and cached again at
 * once, as a vCPU might, so a change written after its flush is caught too.
 * Every change of a cached translation needs an invalidation, permission
 * relaxations included (libtdp always issues one).
 */
TDP_API struct tdp_tk_tlb *tdp_tk_tlb_new(size_t capacity, struct tdp_tk_pool *pool,
					  uint32_t flags);
/** Delete the model before its pool (it unhooks itself from the pool). */
TDP_API void tdp_tk_tlb_delete(struct tdp_tk_tlb *tlb);
/** The model's callbacks: tdp_config.tlb, with the model as tlb_ctx. */
TDP_API extern const struct tdp_tlb_ops tdp_tk_tlb_ops;
/** Walk with this reference from now on (the model keeps a copy); empties the cache. */
TDP_API void tdp_tk_tlb_attach(struct tdp_tk_tlb *tlb, const struct tdp_tk_ref *ref);

/**
 * Cache the translation of gpa for `access` if the walk succeeds, like a
 * TLB fill by a vCPU (evicting the oldest entry when full). @return 1 if
 * cached, 0 if the walk faulted, or a negative code.
 */
TDP_API int tdp_tk_tlb_fill(struct tdp_tk_tlb *tlb, uint64_t gpa, unsigned int access);

/**
 * Re-walk every cached translation: each must still be what the tables say
 * (the library changed it without invalidating it otherwise). Call after
 * every operation. @return the number of violations found so far (this
 * check, those seen inside the flush callbacks and the frees).
 */
TDP_API size_t tdp_tk_tlb_check(struct tdp_tk_tlb *tlb);
/** Text of the first violation, or "". */
TDP_API const char *tdp_tk_tlb_first_violation(const struct tdp_tk_tlb *tlb);

/** A TLB model's counters (tdp_tk_tlb_stats()). */
struct tdp_tk_tlb_stats {
	size_t cached;       /**< entries held now */
	size_t fills;        /**< entries added by tdp_tk_tlb_fill (not repeats or refills) */
	size_t flush_ranges; /**< flush_range callbacks received */
	size_t flush_alls;   /**< flush_all callbacks received */
	size_t dropped;      /**< entries removed by invalidations (not evictions) */
	size_t violations;   /**< as tdp_tk_tlb_check() counts them */
};
/** Fill *st with the model's counters. */
TDP_API void tdp_tk_tlb_stats(const struct tdp_tk_tlb *tlb, struct tdp_tk_tlb_stats *st);

/* ------------------------------------------------------------------ */
/* Differential driver                                                  */
/* ------------------------------------------------------------------ */

/** What tdp_tk_diff_run() runs. */
struct tdp_tk_diff_opts {
	/**
	 * The table to test: format, ia_bits, oa_bits, granule_shift, flags
	 * and leaf_levels. mm and tlb are the driver's own.
	 */
	struct tdp_config cfg;
	uint64_t seed;               /**< of the random sequence */
	uint64_t ops;                /**< operations to run */
	unsigned int fail_percent;   /**< share of operations run with an injected allocation failure */
	bool shrink;                 /**< on failure, shrink the sequence and print a reproducer */
	/** Where the driver prints (one line per call, no newline); NULL: stderr. */
	void (*print)(void *arg, const char *line);
	void *print_arg; /**< passed to print */
};

/** What a tdp_tk_diff_run() did. */
struct tdp_tk_diff_stats {
	uint64_t ops;              /**< operations run */
	uint64_t map;              /**< of those, maps */
	uint64_t unmap;            /**< unmaps */
	uint64_t zap;              /**< zaps */
	uint64_t split;            /**< splits */
	uint64_t protect;          /**< protects */
	uint64_t noreplace_eexist; /**< maps with TDP_MAP_NOREPLACE refused with -TDP_EEXIST */
	uint64_t enomem;           /**< operations refused with -TDP_ENOMEM */
	uint64_t tlb_fills;        /**< TLB model fills */
};

/**
 * Run o->ops random operations (map / unmap / zap with a budget / split /
 * protect, random alignment, sizes, attributes, leaf caps and injected
 * allocation failures), checking after each one the translations against a
 * page-granular model through the reference walker, the TLB model and the
 * page count. @return 0 if every check passed, 1 on the first failure (after
 * printing the seed, the operation and, with shrink, a minimal sequence),
 * or a negative code for bad options.
 */
TDP_API int tdp_tk_diff_run(const struct tdp_tk_diff_opts *o, struct tdp_tk_diff_stats *st);

/**
 * The same driver with its operations decoded from bytes (for libFuzzer and
 * AFL++): the first byte picks a configuration of the format, the rest are
 * operations. @return 0, or 1 on a failed check (already printed).
 */
TDP_API int tdp_tk_diff_run_bytes(enum tdp_format format, const uint8_t *data, size_t size);

/* ------------------------------------------------------------------ */
/* Epoch-based deferred free                                            */
/* ------------------------------------------------------------------ */

/**
 * The grace period shared mode (TDP_CFG_SHARED) needs, for tests,
 * benchmarks and users without RCU: threads announce the global epoch when
 * they enter a section in which they call libtdp on the table; a table
 * given to defer_free_table is tagged with the epoch of that moment (the
 * epoch then advances) and is freed through tdp_free_unlinked() once every
 * thread is outside or entered after it. Link with threads.
 *
 * Use: tdp_tk_pool_config (or your own mm), tdp_tk_epoch_config, set
 * TDP_CFG_SHARED, tdp_pgtable_init, tdp_tk_epoch_attach; each thread wraps
 * its calls in enter/exit and calls reclaim now and then. Teardown, with
 * every thread outside: tdp_tk_epoch_reclaim (frees everything pending),
 * tdp_pgtable_destroy, then tdp_tk_epoch_delete (the table's cfg.mm points
 * into the domain, so the domain goes last).
 */
struct tdp_tk_epoch;

/**
 * An epoch domain for up to max_threads threads (ids 0..max_threads-1, at
 * most 65536); NULL on bad arguments or no memory.
 */
TDP_API struct tdp_tk_epoch *tdp_tk_epoch_new(unsigned int max_threads);
/**
 * Free the domain. Tables still pending are freed first through the table
 * given at attach (all threads must be outside); if none was attached, or
 * it was destroyed already, they are dropped (leaked), so reclaim first.
 */
TDP_API void tdp_tk_epoch_delete(struct tdp_tk_epoch *e);
/**
 * Wrap cfg->mm / cfg->mm_ctx (already set, e.g. by tdp_tk_pool_config):
 * afterwards cfg->mm points to the domain's own tdp_mm_ops, whose
 * zalloc_table/free_table/virt_to_phys/phys_to_virt forward to the old ones
 * under a mutex (the translation callbacks stay NULL if they were NULL, so
 * linear_offset keeps working), so any allocator -- the kit's page pool is
 * not thread-safe -- may be used from many threads; and whose
 * defer_free_table queues the table (it aborts the process if it cannot
 * allocate its queue node: it has no way to report the failure and freeing
 * at once could be a use after free). cfg->flags is left alone.
 * @return 0, or -TDP_EINVAL for NULL, a cfg->mm without zalloc_table or
 * free_table, or a domain configured already (one table per domain).
 */
TDP_API int tdp_tk_epoch_config(struct tdp_tk_epoch *e, struct tdp_config *cfg);
/**
 * Tell the domain which table it serves (after tdp_pgtable_init succeeded);
 * needed before reclaim frees anything. NULL pgt detaches.
 */
TDP_API void tdp_tk_epoch_attach(struct tdp_tk_epoch *e, const struct tdp_pgtable *pgt);
/**
 * Thread `tid` enters / leaves a section in which it calls libtdp on the
 * table (a read-side critical section). One thread per id. Sections nest
 * (the outermost one counts); an exit while outside is ignored. A tid >=
 * max_threads is ignored: such a thread is NOT protected.
 */
TDP_API void tdp_tk_epoch_enter(struct tdp_tk_epoch *e, unsigned int tid);
/** Thread `tid` leaves its section (see tdp_tk_epoch_enter()). */
TDP_API void tdp_tk_epoch_exit(struct tdp_tk_epoch *e, unsigned int tid);
/**
 * Free (tdp_free_unlinked) every queued table no thread can still reach;
 * callable from any thread, also concurrently, also from inside a section
 * (then it just cannot free what that thread may see). @return how many
 * it freed (0 before attach).
 */
TDP_API size_t tdp_tk_epoch_reclaim(struct tdp_tk_epoch *e);

/** An epoch domain's counters (tdp_tk_epoch_stats()). */
struct tdp_tk_epoch_stats {
	size_t deferred; /**< tables given to defer_free_table */
	size_t freed;    /**< of those, freed by reclaim or delete */
	size_t pending;  /**< deferred - freed */
};
/** Fill *st with the domain's counters. */
TDP_API void tdp_tk_epoch_stats(const struct tdp_tk_epoch *e, struct tdp_tk_epoch_stats *st);

#ifdef __cplusplus
}
#endif

#endif
