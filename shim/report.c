/* SPDX-License-Identifier: MIT */
/* Reports about libkt itself: configuration warnings, degradation, the exit
 * summary (report.h).  Stale kills are report_stale.c. */
#include "report.h"

#include <errno.h>
#include <stdatomic.h>

#include "counters.h"
#include "line.h"
#include "log.h"

void kt_report_config_warnings(const struct kt_config *c)
{
	for (int i = 0; i < c->n_warnings; i++) {
		char line[KT_CONFIG_WARNING_LEN + 160];
		struct kt_buf b = KT_BUF(line);
		if (kt_log_json()) {
			kt_json_begin(&b, "warning");
			kt_json_kv_str(&b, "message", c->warnings[i]);
			kt_buf_char(&b, '}');
		} else {
			kt_buf_str(&b, c->warnings[i]);
		}
		kt_log_line(&b);
	}
}

/* Which reasons were reported already. */
static _Atomic int degraded_said[KT_DEGRADED_REASONS];

void kt_report_degraded(enum kt_degraded why, int err)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&degraded_said[why], &expected, 1))
		return;
	if (!kt_log_wanted())
		return;
	int saved = errno;
	char line[512];
	struct kt_buf b = KT_BUF(line);
	if (kt_log_json()) {
		kt_json_begin(&b, "degraded");
		kt_json_kv_str(&b, "reason", kt_degraded_key[why]);
		kt_json_kv_u64(&b, "errno", (uint64_t)err);
		kt_json_kv_str(&b, "message", kt_degraded_text[why]);
		kt_buf_char(&b, '}');
	} else {
		kt_text_begin(&b);
		kt_buf_str(&b, "degraded: ");
		kt_buf_str(&b, kt_degraded_text[why]);
		if (err) {
			kt_buf_str(&b, " (errno ");
			kt_buf_i64(&b, err);
			kt_buf_char(&b, ')');
		}
		kt_text_end(&b);
	}
	kt_log_line(&b);
	errno = saved;
}

/* ", N words" in the text summary (no comma before the first). */
static void text_counter(struct kt_buf *b, enum kt_counter id, const char *words)
{
	if (id != 0)
		kt_buf_str(b, ", ");
	kt_buf_u64(b, kt_counter(id));
	kt_buf_char(b, ' ');
	kt_buf_str(b, words);
}

void kt_report_summary(enum kt_mode mode)
{
	if (!kt_log_wanted())
		return;
	int saved = errno;
	const char *mode_name = KT_NAME(kt_mode_name, mode);
	/* The log's own count, not a counter of kt_counters(): it is about the
	 * reports, not the program. */
	uint64_t dropped = kt_log_dropped();
	char line[512];
	struct kt_buf b = KT_BUF(line);
	/* One line of code per counter, made from the list: a table of names
	 * would cost a relocation per pointer in every process start. */
	if (kt_log_json()) {
		kt_json_begin(&b, "summary");
		kt_json_kv_str(&b, "mode", mode_name);
#define KT_JSON_COUNTER(id, field, words) kt_json_kv_u64(&b, #field, kt_counter(KT_N_##id));
		KT_COUNTERS(KT_JSON_COUNTER)
#undef KT_JSON_COUNTER
		kt_json_kv_u64(&b, "reports_dropped", dropped);
		kt_buf_char(&b, '}');
	} else {
		kt_text_begin(&b);
		kt_buf_str(&b, "summary (");
		kt_buf_str(&b, mode_name);
		kt_buf_str(&b, " mode): ");
#define KT_TEXT_COUNTER(id, field, words) text_counter(&b, KT_N_##id, words);
		KT_COUNTERS(KT_TEXT_COUNTER)
#undef KT_TEXT_COUNTER
		if (dropped) {
			kt_buf_str(&b, ", ");
			kt_buf_u64(&b, dropped);
			kt_buf_str(&b, " reports dropped (the log could not be written)");
		}
		kt_text_end(&b);
	}
	kt_log_line(&b);
	errno = saved;
}
