/* The stale-kill report (report.h): what was called, what the child was
 * and how it went, who holds its number now, and where in the program the
 * call came from, as one text or JSON line. */
#include "report.h"

#include <errno.h>
#include <string.h>

#include "line.h"
#include "log.h"
#include "sys.h"
#include "table.h"

/* A CLOCK_MONOTONIC stamp from the table, as wall-clock time. */
static uint64_t mono_to_wall(uint64_t mono, uint64_t now_mono, uint64_t now_wall)
{
	return now_wall - (now_mono - mono);
}

static int holder_is_decoy(const struct kt_stale *ev)
{
	return ev->holder == 1 && strcmp(ev->holder_comm, KT_DECOY_COMM) == 0;
}

/* Room kept free after the caller frames: a JSON line must still close
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

static void json_caller(struct kt_buf *b, const struct kt_caller *c)
{
	kt_json_key(b, "caller");
	kt_buf_char(b, '[');
	for (int i = 0; i < c->n; i++) {
		size_t mark = b->len;
		struct kt_where w;
		int known = kt_caller_where(c->pc[i], &w);
		if (i)
			kt_buf_char(b, ',');
		kt_buf_str(b, "{\"pc\":");
		json_hex(b, c->pc[i]);
		kt_json_key(b, "module");
		if (known) {
			kt_buf_char(b, '"');
			where_module(b, w.module, 1);
			kt_buf_char(b, '"');
			kt_json_key(b, "offset");
			json_hex(b, w.offset);
		} else {
			kt_buf_str(b, "null");
		}
		kt_json_key(b, "symbol");
		if (known && w.symbol) {
			kt_buf_char(b, '"');
			kt_buf_json(b, w.symbol, w.symbol_len < 64 ? w.symbol_len : 64);
			kt_buf_str(b, "+");
			kt_buf_hex(b, w.symbol_offset);
			kt_buf_char(b, '"');
		} else {
			kt_buf_str(b, "null");
		}
		kt_buf_char(b, '}');
		if (!frame_fits(b, mark, KT_JSON_TAIL))
			break;
	}
	kt_buf_char(b, ']');
}

static void text_caller(struct kt_buf *b, const struct kt_caller *c)
{
	if (!c->n)
		return;
	kt_buf_str(b, "; called from ");
	for (int i = 0; i < c->n; i++) {
		size_t mark = b->len;
		struct kt_where w;
		if (i)
			kt_buf_str(b, " <- ");
		kt_buf_hex(b, c->pc[i]);
		if (!kt_caller_where(c->pc[i], &w)) {
			if (!frame_fits(b, mark, KT_TEXT_TAIL))
				break;
			continue;
		}
		kt_buf_str(b, " (");
		if (w.symbol) {
			kt_buf_quoted(b, w.symbol, w.symbol_len < 64 ? w.symbol_len : 64);
			kt_buf_char(b, '+');
			kt_buf_hex(b, w.symbol_offset);
			kt_buf_str(b, " in ");
		}
		where_module(b, w.module, 0);
		kt_buf_char(b, '+');
		kt_buf_hex(b, w.offset);
		kt_buf_char(b, ')');
		if (!frame_fits(b, mark, KT_TEXT_TAIL))
			break;
	}
}

/* The report facts of PID, each field read whole (see KT_INFO_SET), into
 * *COPY; NULL if there are none. */
static const struct kt_slot_info *info_snapshot(pid_t pid, struct kt_slot_info *copy)
{
	const struct kt_slot_info *info = kt_table_info(pid);
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

static void json_stale(struct kt_buf *b, const struct kt_stale *ev)
{
	char sigtmp[16];
	const char *sig = kt_signal_name(ev->sig, sigtmp);
	uint64_t now = kt_now_ns(), wall = kt_wall_ns();

	kt_json_begin(b, "stale_kill");
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

	kt_json_key(b, "child");
	struct kt_slot_info facts;
	const struct kt_slot_info *info = info_snapshot(ev->pid, &facts);
	if (info && info->made_by) {
		kt_buf_str(b, "{\"name\":");
		kt_json_str(b, info->name, sizeof info->name);
		kt_json_kv_str(b, "spawned_by", KT_NAME(kt_made_by_name, info->made_by));
		kt_json_key(b, "spawned_at");
		kt_json_time(b, mono_to_wall(info->made_ns, now, wall));
		kt_json_key(b, "reaped_at");
		if (info->reaped_ns)
			kt_json_time(b, mono_to_wall(info->reaped_ns, now, wall));
		else
			kt_buf_str(b, "null");
		kt_json_kv_str(b, "reaped_by", KT_NAME(kt_reaped_by_key, info->reaped_by));
		kt_buf_char(b, '}');
	} else {
		kt_buf_str(b, "null");
	}

	kt_json_key(b, "holder");
	if (ev->holder == 1) {
		kt_buf_str(b, "{\"pid\":");
		kt_buf_i64(b, ev->pid);
		kt_json_key(b, "comm");
		kt_json_str(b, ev->holder_comm, sizeof ev->holder_comm);
		kt_json_key(b, "ppid");
		kt_buf_i64(b, ev->holder_ppid);
		kt_json_key(b, "decoy");
		kt_buf_str(b, holder_is_decoy(ev) ? "true" : "false");
		kt_buf_char(b, '}');
	} else if (ev->holder == 0) {
		kt_buf_str(b, "null");
	} else {
		/* Somebody may hold it, but /proc cannot say who (not our PID
		 * namespace's /proc, or not readable). */
		kt_buf_str(b, "{\"pid\":");
		kt_buf_i64(b, ev->pid);
		kt_buf_str(b, ",\"comm\":null,\"ppid\":null,\"decoy\":null}");
	}
	json_caller(b, &ev->caller);
	kt_buf_char(b, '}');
}

static void text_stale(struct kt_buf *b, const struct kt_stale *ev)
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
	struct kt_slot_info facts;
	const struct kt_slot_info *info = info_snapshot(ev->pid, &facts);
	kt_buf_str(b, ev->group ? "group leader child " : "child ");
	kt_buf_i64(b, ev->pid);
	if (info && info->made_by) {
		kt_buf_str(b, " (\"");
		kt_buf_quoted(b, info->name, sizeof info->name);
		kt_buf_str(b, "\", ");
		kt_buf_str(b, KT_NAME(kt_made_by_name, info->made_by));
		kt_buf_char(b, ' ');
		kt_buf_secs(b, now - info->made_ns);
		kt_buf_str(b, " ago)");
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
		kt_buf_str(b, " is gone");
	}

	if (ev->holder == 1) {
		kt_buf_str(b, ev->delivered ? "; the signal hit" : "; PID now held by");
		kt_buf_str(b, " another process: \"");
		kt_buf_quoted(b, ev->holder_comm, sizeof ev->holder_comm);
		kt_buf_str(b, "\" (parent ");
		kt_buf_i64(b, ev->holder_ppid);
		if (holder_is_decoy(ev))
			kt_buf_str(b, ", a decoy placed by kt-run --provoke-reuse");
		kt_buf_char(b, ')');
	} else if (ev->holder == 0) {
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
	text_caller(b, &ev->caller);
	kt_text_end(b);
}

void kt_report_stale(const struct kt_stale *ev)
{
	if (!kt_log_wanted())
		return;
	int saved = errno;
	/* On the stack of whatever called kill(), maybe a small sigaltstack:
	 * large enough for six caller frames, no larger. */
	char line[2560];
	struct kt_buf b = KT_BUF(line);
	if (kt_log_json())
		json_stale(&b, ev);
	else
		text_stale(&b, ev);
	kt_log_line(&b);
	errno = saved;
}
