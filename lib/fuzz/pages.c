// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Fuzz target "pages": arbitrary bytes as the per-CPU trace_pipe_raw
 * page streams of a two-CPU machine, through the merge (pages.c), the
 * decoder (decode.c) and the model (model.c), with the real formats of
 * the Debian 6.1 kernel (fixtures/formats) and, optionally, the start-up
 * snapshot of fixtures/vm-recording.
 *
 * Input:
 *
 *   u8 flags         bit 0: reconcile the model with the snapshot first
 *                    bit 1: decode as the fallback mode does (module:*)
 *                    bit 2: reconcile again after lost events (as the
 *                           live session's resync does)
 *   frames, each:
 *     u8 ctl         bit 0: the CPU; bit 1: drain the merge before this
 *                    page; bit 2: mark the CPU "more pages to come"
 *                    (a replay's lazy push: the merge must wait for it)
 *     u16 len (LE)   at most 4096, cut at the end of the input
 *     len bytes      the page as read (a short read is fine)
 *
 * At the end every CPU is marked done and the merge is drained.  Every
 * record the merge returns is decoded, every event of ours checked
 * (common.c) and applied; the model is walked after every drain.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "../tests/pagebuild.h"

#define NCPUS		2
#define PAGE_MAX	4096

static struct tep_handle *tep;
static struct klpt_truth *truth;

static void setup(void)
{
	FILE *f;

	if (tep)
		return;
	fuzz_quiet();
	tep = load_formats(fuzz_fixture("formats"));
	f = fopen(fuzz_fixture("vm-recording/truth.txt"), "re");
	if (!tep || !f || klpt_truth_load(f, &truth) < 0) {
		fprintf(stderr, "fuzz pages: cannot load the fixtures in %s\n",
			fuzz_fixture(""));
		exit(2);
	}
	fclose(f);
}

struct run {
	struct klpt_merge *merge;
	struct klpt_decoder *dec;
	struct klpt_model *model;
	bool resync;
	int events;
};

static void drain(struct run *r)
{
	struct klpt_event ev;
	struct tep_record *rec;
	uint64_t lost;
	int ret;

	while ((rec = klpt_merge_next(r->merge, &lost))) {
		FUZZ_ASSERT(rec->cpu >= 0 && rec->cpu < NCPUS);
		FUZZ_ASSERT(rec->size >= 0);
		if (lost) {
			memset(&ev, 0, sizeof(ev));
			ev.type = KLPT_EV_LOST;
			ev.ts = rec->ts;
			ev.cpu = -1;
			ev.lost.count = lost == UINT64_MAX ? 0 : lost;
			klpt_model_apply(r->model, &ev);
			FUZZ_ASSERT(klpt_model_stale(r->model));
			if (r->resync) {
				klpt_model_reconcile(r->model, truth);
				FUZZ_ASSERT(!klpt_model_stale(r->model));
			}
		}
		ret = klpt_decode(r->dec, rec, &ev);
		FUZZ_ASSERT(ret == 0 || ret == 1 || ret == -EBADMSG);
		if (ret == 1) {
			FUZZ_ASSERT(ev.ts == rec->ts && ev.cpu == rec->cpu);
			fuzz_check_event(&ev);
			r->events++;
			klpt_model_apply(r->model, &ev);
		}
	}
	fuzz_walk_model(r->model);
}

FUZZ_TARGET(pages)
{
	struct run r = { 0 };
	size_t off = 1;
	int c;

	setup();
	if (!size)
		return 0;
	r.merge = klpt_merge_new(tep, NCPUS);
	r.dec = klpt_decoder_new(tep);
	r.model = klpt_model_new();
	if (!r.merge || !r.dec || !r.model)
		abort();
	klpt_decoder_set_fallback(r.dec, data[0] & 2);
	r.resync = data[0] & 4;
	if (data[0] & 1)
		klpt_model_reconcile(r.model, truth);

	while (off + 3 <= size) {
		uint8_t ctl = data[off];
		size_t len = data[off + 1] | (size_t)data[off + 2] << 8;

		off += 3;
		if (len > PAGE_MAX)
			len = PAGE_MAX;
		if (len > size - off)
			len = size - off;
		if (ctl & 2)
			drain(&r);
		klpt_merge_set_more(r.merge, ctl & 1, ctl & 4);
		/* -EBADMSG is the answer to a bad page; nothing else */
		c = klpt_merge_push(r.merge, ctl & 1, data + off, len);
		FUZZ_ASSERT(c == 0 || c == -EBADMSG);
		off += len;
	}
	for (c = 0; c < NCPUS; c++)
		klpt_merge_set_more(r.merge, c, false);
	drain(&r);
	for (c = 0; c < NCPUS; c++)
		FUZZ_ASSERT(klpt_merge_queued(r.merge, c) == 0);

	if (fuzz_verbose())
		fprintf(stderr, "pages: %d events; %d patches, %d tasks, "
			"%d modules\n", r.events,
			klpt_model_patch_count(r.model),
			klpt_model_task_count(r.model),
			klpt_model_module_count(r.model));
	klpt_model_free(r.model);
	klpt_decoder_free(r.dec);
	klpt_merge_free(r.merge);
	return 0;
}
