/* SPDX-License-Identifier: MIT */
/* The stale-kill report (report.h): what was called, what the child was
 * and how it went, who holds its number now, and three stacks: where in the
 * program the call came from, and, when reports were on as the child came
 * and went, where it was spawned and reaped (story.h), as one text or JSON
 * line.  A stale kill of a number the program saw under /proc
 * (stale_observed_kill) tells the observation instead of a child: the path,
 * when, which process it was, and the stack it was opened from. */
#include "report.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "holder.h"
#include "line.h"
#include "log.h"
#include "story.h"
#include "sys.h"
#include "table.h"

/* A CLOCK_MONOTONIC stamp from the table, as wall-clock time. */
static uint64_t mono_to_wall(uint64_t mono, uint64_t now_mono, uint64_t now_wall)
{
	return now_wall - (now_mono - mono);
}

/* Who holds the number, as the report says it: KNOWN as kt_holder_describe
 * answers, H the process. */
struct holder_view {
	int known;
	struct kt_holder_facts h;
};

/* A refused kill sent nothing, so whoever holds the number as the report is
 * written is who the kill would have hit: described now, pinned by a pidfd,
 * so the inode printed is that process's.  A kill let through (audit) may
 * have ended its target: the hook's view from before the delivery. */
static void holder_view(const struct kt_stale *ev, struct holder_view *v)
{
	if (!ev->delivered) {
		v->known = kt_holder_describe(ev->pid, &v->h);
		return;
	}
	v->known = ev->holder;
	v->h = ev->holder_seen;
}

static int holder_is_decoy(const struct holder_view *v)
{
	return v->known == 1 && strcmp(v->h.comm, KT_DECOY_COMM) == 0;
}

/* PID:INODE, the name util-linux's kill(1) and systemd take for a process
 * (its pidfs inode makes it unambiguous), as a JSON string, or null without
 * an inode. */
static void json_id(struct kt_buf *b, pid_t pid, uint64_t ino)
{
	kt_json_key(b, "id");
	if (!ino) {
		kt_buf_str(b, "null");
		return;
	}
	kt_buf_char(b, '"');
	kt_buf_i64(b, pid);
	kt_buf_char(b, ':');
	kt_buf_u64(b, ino);
	kt_buf_char(b, '"');
}

/* The same in text: "PID:INODE", or "PID" without an inode. */
static void text_id(struct kt_buf *b, pid_t pid, uint64_t ino)
{
	kt_buf_i64(b, pid);
	if (ino) {
		kt_buf_char(b, ':');
		kt_buf_u64(b, ino);
	}
}

/* Room kept free after the last stack: a JSON line must still close
 * ("]}"), a text line still name its process (kt_text_end). */
#define KT_JSON_TAIL 8
#define KT_TEXT_TAIL 160
/* Bytes a module path may take in a report; longer ones keep their end. */
#define KT_MODULE_MAX 160

/* A frame is written whole or not at all: if it left less than TAIL bytes
 * free, take it back (to MARK, where it began) and say so.  Escaping makes a
 * frame's length unknowable in advance (a byte can become six). */
static int frame_fits(struct kt_buf *b, size_t mark, size_t tail)
{
	if (b->cap - 1 - b->len >= tail)
		return 1;
	b->len = mark;
	b->p[mark] = '\0';
	return 0;
}

static void where_module(struct kt_buf *b, const char *path, int json)
{
	size_t len = strlen(path);
	const char *p = len > KT_MODULE_MAX ? path + len - KT_MODULE_MAX : path;
	if (json)
		kt_buf_json(b, p, KT_MODULE_MAX);
	else
		kt_buf_quoted(b, p, KT_MODULE_MAX);
}

/* V as a JSON string: "0x1f". */
static void json_hex(struct kt_buf *b, uint64_t v)
{
	kt_buf_char(b, '"');
	kt_buf_hex(b, v);
	kt_buf_char(b, '"');
}

/* A stack as a JSON array of frames under KEY ("caller", "spawned_from",
 * "reaped_from": the same shape for all three), leaving at least TAIL bytes
 * of the line free for what follows. */
static void json_stack(struct kt_buf *b, const char *key, const struct kt_caller *c,
                       size_t tail, struct kt_where *w)
{
	kt_json_key(b, key);
	kt_buf_char(b, '[');
	for (int i = 0; i < c->n; i++) {
		size_t mark = b->len;
		int known = kt_caller_where(c->pc[i], w);
		if (i)
			kt_buf_char(b, ',');
		kt_buf_str(b, "{\"pc\":");
		json_hex(b, c->pc[i]);
		kt_json_key(b, "module");
		if (known) {
			kt_buf_char(b, '"');
			where_module(b, w->module, 1);
			kt_buf_char(b, '"');
			kt_json_key(b, "offset");
			json_hex(b, w->offset);
		} else {
			kt_buf_str(b, "null");
		}
		kt_json_key(b, "symbol");
		if (known && w->symbol) {
			kt_buf_char(b, '"');
			kt_buf_json(b, w->symbol, w->symbol_len < 64 ? w->symbol_len : 64);
			kt_buf_str(b, "+");
			kt_buf_hex(b, w->symbol_offset);
			kt_buf_char(b, '"');
		} else {
			kt_buf_str(b, "null");
		}
		kt_buf_char(b, '}');
		if (!frame_fits(b, mark, tail))
			break;
	}
	kt_buf_char(b, ']');
}

/* A stack as "; LABEL 0x... (where) <- 0x... (where)", or nothing if empty,
 * leaving at least TAIL bytes of the line free. */
static void text_stack(struct kt_buf *b, const char *label, const struct kt_caller *c,
                       size_t tail, struct kt_where *w)
{
	if (!c->n)
		return;
	kt_buf_str(b, "; ");
	kt_buf_str(b, label);
	kt_buf_char(b, ' ');
	for (int i = 0; i < c->n; i++) {
		size_t mark = b->len;
		if (i)
			kt_buf_str(b, " <- ");
		kt_buf_hex(b, c->pc[i]);
		if (!kt_caller_where(c->pc[i], w)) {
			if (!frame_fits(b, mark, tail))
				break;
			continue;
		}
		kt_buf_str(b, " (");
		if (w->symbol) {
			kt_buf_quoted(b, w->symbol, w->symbol_len < 64 ? w->symbol_len : 64);
			kt_buf_char(b, '+');
			kt_buf_hex(b, w->symbol_offset);
			kt_buf_str(b, " in ");
		}
		where_module(b, w->module, 0);
		kt_buf_char(b, '+');
		kt_buf_hex(b, w->offset);
		kt_buf_char(b, ')');
		if (!frame_fits(b, mark, tail))
			break;
	}
}

/* The report facts of EV's child (in our table, or in the ancestor's that
 * registered it), each field read whole (see KT_INFO_SET), into *COPY; NULL
 * if there are none. */
static const struct kt_slot_info *info_snapshot(const struct kt_stale *ev,
                                                struct kt_slot_info *copy)
{
	const struct kt_slot_info *info =
		ev->ancestor_pid ? ev->ancestor_facts : kt_table_info(ev->pid);
	if (!info)
		return NULL;
	copy->made_ns = KT_INFO_GET(info->made_ns);
	copy->reaped_ns = KT_INFO_GET(info->reaped_ns);
	copy->made_by = KT_INFO_GET(info->made_by);
	copy->reaped_by = KT_INFO_GET(info->reaped_by);
	for (size_t i = 0; i < sizeof copy->name; i++)
		copy->name[i] = KT_INFO_GET(info->name[i]);
	copy->name[sizeof copy->name - 1] = '\0';
	return copy;
}

/* The child's name: what it ran when it was reaped, if that was read, else
 * what it was spawned as. */
static const char *child_name(const struct kt_slot_info *info,
                              const struct kt_story_view *story, size_t *max)
{
	if (story && story->name[0]) {
		*max = sizeof story->name;
		return story->name;
	}
	*max = sizeof info->name;
	return info->name;
}

/* The child a stale kill's number belonged to, under "child". */
static void json_child(struct kt_buf *b, const struct kt_stale *ev,
                       const struct kt_story_view *story, uint64_t now, uint64_t wall,
                       struct kt_where *w)
{
	kt_json_key(b, "child");
	struct kt_slot_info facts;
	const struct kt_slot_info *info = info_snapshot(ev, &facts);
	if (info && info->made_by) {
		size_t max;
		const char *name = child_name(info, story, &max);
		kt_buf_str(b, "{\"name\":");
		kt_json_str(b, name, max);
		json_id(b, ev->pid, story ? story->ino : 0);
		kt_json_kv_str(b, "spawned_by", KT_NAME(kt_made_by_name, info->made_by));
		kt_json_key(b, "spawned_at");
		kt_json_time(b, mono_to_wall(info->made_ns, now, wall));
		/* Each stack gets a share of the line, so a deep or long-named one
		 * never crowds out the others, the kill's own above all. */
		if (story)
			json_stack(b, "spawned_from", &story->spawned, b->cap * 2 / 3, w);
		kt_json_key(b, "reaped_at");
		if (info->reaped_ns)
			kt_json_time(b, mono_to_wall(info->reaped_ns, now, wall));
		else
			kt_buf_str(b, "null");
		kt_json_kv_str(b, "reaped_by", KT_NAME(kt_reaped_by_key, info->reaped_by));
		if (story)
			json_stack(b, "reaped_from", &story->reaped, b->cap / 3, w);
		kt_buf_char(b, '}');
	} else {
		kt_buf_str(b, "null");
	}
}

/* The observation an observed stale kill was judged by, under "observed". */
static void json_seen(struct kt_buf *b, const struct kt_stale *ev, uint64_t now, uint64_t wall,
                      struct kt_where *w)
{
	const struct kt_sighting *seen = ev->seen;
	kt_json_key(b, "observed");
	kt_buf_str(b, "{\"path\":");
	if (seen->path[0])
		kt_json_str(b, seen->path, sizeof seen->path);
	else
		kt_buf_str(b, "null");
	kt_json_key(b, "at");
	if (seen->at_ns)
		kt_json_time(b, mono_to_wall(seen->at_ns, now, wall));
	else
		kt_buf_str(b, "null");
	json_id(b, ev->pid, seen->kind == KT_SEEN_INODE ? seen->ident : 0);
	/* Which process the number was: null when nobody held it just after
	 * the program's open. */
	kt_json_key(b, "identity");
	if (seen->kind == KT_SEEN_INODE || seen->kind == KT_SEEN_START) {
		kt_buf_str(b, seen->kind == KT_SEEN_INODE ? "{\"pidfs_inode\":" : "{\"start_ticks\":");
		kt_buf_u64(b, seen->ident);
		kt_buf_char(b, '}');
	} else {
		kt_buf_str(b, "null");
	}
	json_stack(b, "from", &seen->from, b->cap / 3, w);
	kt_buf_char(b, '}');
}

static void json_stale(struct kt_buf *b, const struct kt_stale *ev,
                       const struct kt_story_view *story, struct kt_where *w)
{
	char sigtmp[16];
	const char *sig = kt_signal_name(ev->sig, sigtmp);
	uint64_t now = kt_now_ns(), wall = kt_wall_ns();

	kt_json_begin(b, ev->seen ? "stale_observed_kill" : "stale_kill");
	kt_json_kv_str(b, "call", ev->call);
	kt_json_key(b, "pid");
	kt_buf_i64(b, ev->pid);
	kt_json_key(b, "sig");
	kt_buf_i64(b, ev->sig);
	kt_json_kv_str(b, "signame", sig);
	if (ev->group) { /* killpg(pid) or kill(-pid): pid names the child and its group */
		kt_json_key(b, "group");
		kt_buf_str(b, "true");
	}
	kt_json_kv_str(b, "action", ev->delivered ? "delivered" : "refused");
	/* What the program's call returned: ESRCH when refused; when let
	 * through, the kernel's own answer (0: a signal was sent to the holder). */
	kt_json_kv_u64(b, "errno", ev->delivered ? (uint64_t)ev->delivered_errno : ESRCH);
	kt_json_kv_str(b, "mode", ev->delivered ? "audit" : "enforce");

	if (ev->ancestor_pid) { /* an ancestor's child, judged in a forked process */
		kt_json_key(b, "ancestor");
		kt_buf_str(b, "{\"pid\":");
		kt_buf_i64(b, ev->ancestor_pid);
		kt_json_key(b, "name");
		kt_json_str(b, ev->ancestor_name, 16);
		kt_buf_char(b, '}');
	}
	if (ev->seen)
		json_seen(b, ev, now, wall, w);
	else
		json_child(b, ev, story, now, wall, w);

	kt_json_key(b, "holder");
	struct holder_view hv;
	holder_view(ev, &hv);
	if (hv.known == 1) {
		kt_buf_str(b, "{\"pid\":");
		kt_buf_i64(b, ev->pid);
		json_id(b, ev->pid, hv.h.ino);
		kt_json_key(b, "comm");
		kt_json_str(b, hv.h.comm, sizeof hv.h.comm);
		kt_json_key(b, "ppid");
		kt_buf_i64(b, hv.h.ppid);
		kt_json_key(b, "decoy");
		kt_buf_str(b, holder_is_decoy(&hv) ? "true" : "false");
		kt_buf_char(b, '}');
	} else if (hv.known == 0) {
		kt_buf_str(b, "null");
	} else {
		/* Somebody may hold it, but /proc cannot say who (not our PID
		 * namespace's /proc, or not readable). */
		kt_buf_str(b, "{\"pid\":");
		kt_buf_i64(b, ev->pid);
		kt_buf_str(b, ",\"id\":null,\"comm\":null,\"ppid\":null,\"decoy\":null}");
	}
	json_stack(b, "caller", &ev->caller, KT_JSON_TAIL, w);
	kt_buf_char(b, '}');
}

/* " of ancestor 812 (\"bash\")": whose child it was, when not ours. */
static void text_ancestor(struct kt_buf *b, const struct kt_stale *ev)
{
	kt_buf_str(b, " of ancestor ");
	kt_buf_i64(b, ev->ancestor_pid);
	kt_buf_str(b, " (\"");
	kt_buf_quoted(b, ev->ancestor_name, 16);
	kt_buf_str(b, "\")");
}

/* "child N:INODE ("name", fork 0.002s ago) was reaped 0.001s ago by
 * waitpid()" */
static void text_child(struct kt_buf *b, const struct kt_stale *ev,
                       const struct kt_story_view *story, uint64_t now)
{
	struct kt_slot_info facts;
	const struct kt_slot_info *info = info_snapshot(ev, &facts);
	kt_buf_str(b, ev->group ? "group leader child " : "child ");
	text_id(b, ev->pid, story ? story->ino : 0);
	if (info && info->made_by) {
		size_t max;
		const char *name = child_name(info, story, &max);
		kt_buf_str(b, " (\"");
		kt_buf_quoted(b, name, max);
		kt_buf_str(b, "\", ");
		kt_buf_str(b, KT_NAME(kt_made_by_name, info->made_by));
		kt_buf_char(b, ' ');
		kt_buf_secs(b, now - info->made_ns);
		kt_buf_str(b, " ago)");
		if (ev->ancestor_pid)
			text_ancestor(b, ev);
		const char *how = KT_NAME(kt_reaped_by_text, info->reaped_by);
		if (how && info->reaped_ns) {
			kt_buf_str(b, " was reaped ");
			kt_buf_secs(b, now - info->reaped_ns);
			kt_buf_str(b, " ago ");
			kt_buf_str(b, how);
		} else {
			kt_buf_str(b, " is gone");
			if (how) {
				kt_buf_str(b, ", reaped ");
				kt_buf_str(b, how);
			}
		}
	} else {
		if (ev->ancestor_pid)
			text_ancestor(b, ev);
		kt_buf_str(b, " is gone");
	}
}

/* "process N:INODE was seen at "/proc/N/stat" 0.150s ago" */
static void text_seen(struct kt_buf *b, const struct kt_stale *ev, uint64_t now)
{
	const struct kt_sighting *seen = ev->seen;
	kt_buf_str(b, ev->group ? "group leader process " : "process ");
	text_id(b, ev->pid, seen->kind == KT_SEEN_INODE ? seen->ident : 0);
	kt_buf_str(b, " was seen");
	if (seen->path[0]) {
		kt_buf_str(b, " at \"");
		kt_buf_quoted(b, seen->path, sizeof seen->path);
		kt_buf_char(b, '"');
	}
	if (seen->at_ns) {
		kt_buf_char(b, ' ');
		kt_buf_secs(b, now - seen->at_ns);
		kt_buf_str(b, " ago");
	}
	if (seen->kind == KT_SEEN_START) {
		kt_buf_str(b, " (started ");
		kt_buf_u64(b, seen->ident);
		kt_buf_str(b, " ticks after boot)");
	} else if (seen->kind == KT_SEEN_GONE) {
		kt_buf_str(b, " (and was gone just after)");
	}
}

static void text_stale(struct kt_buf *b, const struct kt_stale *ev,
                       const struct kt_story_view *story, struct kt_where *w)
{
	char sigtmp[16];
	const char *sig = kt_signal_name(ev->sig, sigtmp);

	kt_text_begin(b);
	kt_buf_str(b, ev->delivered ? "stale " : "refused stale ");
	kt_buf_str(b, ev->call);
	kt_buf_char(b, '(');
	if (ev->group && strcmp(ev->call, "kill") == 0)
		kt_buf_char(b, '-'); /* kill(-pgid): show the call as it was made */
	kt_buf_i64(b, ev->pid);
	kt_buf_str(b, ", ");
	kt_buf_str(b, sig ? sig : "?");
	kt_buf_str(b, ev->delivered ? "), let through (audit mode): " : ") with ESRCH: ");

	uint64_t now = kt_now_ns();
	if (ev->seen)
		text_seen(b, ev, now);
	else
		text_child(b, ev, story, now);

	struct holder_view hv;
	holder_view(ev, &hv);
	if (hv.known == 1) {
		kt_buf_str(b, ev->delivered ? "; the signal hit" : "; PID now held by");
		kt_buf_str(b, ev->seen ? " a later process: " : " another process: ");
		if (hv.h.ino) {
			text_id(b, ev->pid, hv.h.ino);
			kt_buf_char(b, ' ');
		}
		kt_buf_char(b, '"');
		kt_buf_quoted(b, hv.h.comm, sizeof hv.h.comm);
		kt_buf_str(b, "\" (parent ");
		kt_buf_i64(b, hv.h.ppid);
		if (holder_is_decoy(&hv))
			kt_buf_str(b, ", a decoy placed by kt-run --provoke-reuse");
		kt_buf_char(b, ')');
	} else if (hv.known == 0) {
		kt_buf_str(b, "; no process holds PID ");
		kt_buf_i64(b, ev->pid);
		kt_buf_str(b, " now");
	} else {
		kt_buf_str(b, "; cannot tell who holds the PID now");
	}
	if (ev->delivered && ev->delivered_errno) {
		kt_buf_str(b, " (kill failed: errno ");
		kt_buf_i64(b, ev->delivered_errno);
		kt_buf_char(b, ')');
	}
	/* Each stack gets a share of the line (see json_stale). */
	text_stack(b, "called from", &ev->caller, b->cap * 2 / 3, w);
	if (ev->seen)
		text_stack(b, "seen from", &ev->seen->from, KT_TEXT_TAIL, w);
	if (story) {
		text_stack(b, "child spawned from", &story->spawned, b->cap / 3, w);
		text_stack(b, "reaped from", &story->reaped, KT_TEXT_TAIL, w);
	}
	kt_text_end(b);
}

/* Bytes of one stale-kill line: three stacks of KT_CALLER_FRAMES frames,
 * each frame with a module path of up to KT_MODULE_MAX bytes, escaped. */
#define KT_STALE_LINE 8192

/* What one report works in: not on the stack of whatever called kill(),
 * which may be a small sigaltstack, but pages of its own, for the length of
 * the report. */
struct stale_pages {
	char line[KT_STALE_LINE];
	struct kt_where where; /* a few KiB: naming a frame may read /proc/self/maps */
};

void kt_report_stale(const struct kt_stale *ev)
{
	if (!kt_log_wanted())
		return;
	int saved = errno;
	struct stale_pages *pages = kt_zeroed_pages(sizeof *pages);
	if (!pages) {
		kt_log_drop();
		errno = saved;
		return;
	}
	struct kt_story_view story;
	const struct kt_story_view *known =
		!ev->seen && kt_story_get(ev->pid, ev->ancestor_pid ? ev->ancestor_reg_seq : 0, &story) ? &story
		                                                                          : NULL;
	struct kt_buf b = { pages->line, 0, KT_STALE_LINE };
	if (kt_log_json())
		json_stale(&b, ev, known, &pages->where);
	else
		text_stale(&b, ev, known, &pages->where);
	kt_log_line(&b);
	munmap(pages, sizeof *pages);
	errno = saved;
}
