/* SPDX-License-Identifier: MIT */
/* kt-run: flags, exit and signal statuses, bad options, where it finds
 * libkt (build tree, installed, through a symlink), make install/uninstall,
 * and --provoke-reuse catching a latent stale kill, as root and as an
 * ordinary user.
 *
 * Each check runs a small bash script with $KTRUN (scripts/kt-run), $H (the
 * helpers directory) and $SRC (the source tree) set, and nothing of libkt in
 * its environment (kt_test_run strips LD_PRELOAD and KT_*), so whatever libkt
 * does in there, kt-run set it up. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kt.h>

#include "testlib.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#define HEADER_VERSION STR(KT_VERSION_MAJOR) "." STR(KT_VERSION_MINOR) "." STR(KT_VERSION_PATCH)

static char src_dir[4096], ktrun_kv[4200], helpers_kv[4200], src_kv[4200];

static void setup(void)
{
	char lib[4096];
	snprintf(lib, sizeof lib, "%s", kt_test_lib());
	/* $KT_BUILD/libkt.so -> $KT_BUILD -> its parent, the source tree. */
	char *build = dirname(lib);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", build);
	snprintf(src_dir, sizeof src_dir, "%s", dirname(tmp));
	snprintf(ktrun_kv, sizeof ktrun_kv, "KTRUN=%s/scripts/kt-run", src_dir);
	snprintf(helpers_kv, sizeof helpers_kv, "H=%s/test/helpers", build);
	snprintf(src_kv, sizeof src_kv, "SRC=%s", src_dir);
}

/* bash -c SCRIPT, stdout and stderr merged, with EXTRA ("K=V" or NULL)
 * added to the environment. */
static void sh(struct kt_test_output *r, const char *script, const char *extra)
{
	char *argv[] = { "/bin/bash", "-c", (char *)script, NULL };
	char *env[] = { ktrun_kv, helpers_kv, src_kv, (char *)extra, NULL };
	r->status = kt_test_run(0, argv, env, r->out, sizeof r->out, 1, 30);
	ck_assert_msg(r->status != -1, "could not run bash");
}

/* ---- options ------------------------------------------------------------ */

START_TEST(test_help)
{
	struct kt_test_output r;
	sh(&r, "\"$KTRUN\" --help", NULL);
	kt_test_expect_exit(&r, 0, "--help");
	kt_test_expect_in(r.out, "Usage: kt-run [--audit|--off] [--log FILE] [--json] [--stats] "
	                  "[--exitcode N]\n              [--observe=MODE] [--provoke-reuse] [--] "
	                  "COMMAND [ARG]...\n"
	                  "       kt-run [--audit|--off] [--log FILE] [--json] [--stats] [--exitcode N]\n"
	                  "              [--observe=MODE] --config\n"
	                  "       kt-run --check PID\n",
	          "--help");
	static const char *const flags[] = { "--audit", "--off", "--log FILE", "--json", "--stats",
		                             "--exitcode N", "--observe=MODE", "--provoke-reuse",
		                             "--config", "--check PID",
		                             "--help", "--version" };
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		kt_test_expect_in(r.out, flags[i], "--help");
	sh(&r, "\"$KTRUN\" -h", NULL);
	kt_test_expect_exit(&r, 0, "-h");
	kt_test_expect_in(r.out, "Usage: kt-run", "-h");
}
END_TEST

/* The script's version is the header's: they are released together. */
START_TEST(test_version)
{
	struct kt_test_output r;
	sh(&r, "\"$KTRUN\" --version && \"$KTRUN\" -V", NULL);
	kt_test_expect_exit(&r, 0, "--version");
	ck_assert_str_eq(r.out, "kt-run (libkt) " HEADER_VERSION "\nkt-run (libkt) " HEADER_VERSION
	                        "\n");
}
END_TEST

static const char *const bad_options[] = {
	"--bogus true", "-x true", "--log", "", "--audit --off true", "--off --provoke-reuse true",
	"--json", "--jsonx true", "--log '' true", "--log= true",
	"--check", "--check x", "--check 0", "--check=-1", "--check 1 true", "--audit --check 1",
	"--exitcode true", "--exitcode 0 true", "--exitcode 256 true", "--exitcode=x true",
	"--exitcode", "--exitcode 66 --check 1", "--config true", "--provoke-reuse --config",
	"--config --check 1",
	"--observe=on true", "--observe= true", "--observe", "--observe=audit --check 1",
};

START_TEST(test_bad_option)
{
	char script[256];
	snprintf(script, sizeof script, "\"$KTRUN\" %s; echo \"status=$?\"", bad_options[_i]);
	struct kt_test_output r;
	sh(&r, script, NULL);
	kt_test_expect_in(r.out, "status=2\n", bad_options[_i]);
	kt_test_expect_in(r.out, "kt-run: ", bad_options[_i]);
	kt_test_expect_in(r.out, "Try 'kt-run --help' for more information.", bad_options[_i]);
}
END_TEST

/* "--" ends the options: a command that looks like one is still run. */
START_TEST(test_double_dash)
{
	struct kt_test_output r;
	sh(&r, "cd \"$(mktemp -d)\" && printf '#!/bin/sh\\necho ran \"$@\"\\n' > ./--json && "
	       "chmod +x ./--json && PATH=.:$PATH \"$KTRUN\" -- --json --audit", NULL);
	kt_test_expect_exit(&r, 0, "--");
	ck_assert_str_eq(r.out, "ran --audit\n");
}
END_TEST

/* ---- statuses ------------------------------------------------------------- */

START_TEST(test_exit_status)
{
	struct kt_test_output r;
	sh(&r, "exec \"$KTRUN\" sh -c 'exit 7'", NULL);
	kt_test_expect_exit(&r, 7, "exit 7");
	sh(&r, "exec \"$KTRUN\" true", NULL);
	kt_test_expect_exit(&r, 0, "true");
	sh(&r, "exec \"$KTRUN\" --audit --json --stats false", NULL);
	kt_test_expect_exit(&r, 1, "false");
}
END_TEST

/* kt-run execs the command: a signal death is the caller's to see. */
START_TEST(test_signal_status)
{
	struct kt_test_output r;
	sh(&r, "exec \"$KTRUN\" sh -c 'kill -TERM $$'", NULL);
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM,
	              "expected death by SIGTERM, status 0x%x", r.status);
	sh(&r, "\"$KTRUN\" sh -c 'kill -TERM $$'; echo \"status=$?\"", NULL);
	kt_test_expect_in(r.out, "status=143\n", "SIGTERM through a shell");
	sh(&r, "\"$KTRUN\" sh -c 'kill -KILL $$'; echo \"status=$?\"", NULL);
	kt_test_expect_in(r.out, "status=137\n", "SIGKILL through a shell");
	/* Sent from outside, to kt-run's own PID. */
	sh(&r, "\"$KTRUN\" sleep 30 & sleep 0.3; kill -TERM $!; wait $!; echo \"status=$?\"", NULL);
	kt_test_expect_in(r.out, "status=143\n", "SIGTERM from outside");
}
END_TEST

START_TEST(test_command_not_runnable)
{
	struct kt_test_output r;
	sh(&r, "\"$KTRUN\" /nonexistent/kt-no-such-command; echo \"status=$?\"", NULL);
	kt_test_expect_in(r.out, "status=127\n", "not found");
	sh(&r, "f=$(mktemp) && \"$KTRUN\" \"$f\"; echo \"status=$?\"; rm -f \"$f\"", NULL);
	kt_test_expect_in(r.out, "status=126\n", "not executable");
}
END_TEST

/* ---- environment ---------------------------------------------------------- */

#define SHOW_ENV "sh -c 'echo \"mode=${KT_MODE-unset} log=${KT_LOG-unset} " \
	"format=${KT_LOG_FORMAT-unset} stats=${KT_STATS-unset} preload=${LD_PRELOAD-unset}\"'"

START_TEST(test_flags_to_env)
{
	struct kt_test_output r;
	char lib[4200], want[8600];
	snprintf(lib, sizeof lib, "%s", kt_test_lib());

	sh(&r, "\"$KTRUN\" " SHOW_ENV, NULL);
	snprintf(want, sizeof want,
	         "mode=unset log=unset format=unset stats=unset preload=%s\n", lib);
	ck_assert_str_eq(r.out, want);

	sh(&r, "cd /tmp && \"$KTRUN\" --audit --json --stats --log rel.log " SHOW_ENV, NULL);
	snprintf(want, sizeof want, "mode=audit log=/tmp/rel.log format=json stats=1 preload=%s\n",
	         lib);
	ck_assert_str_eq(r.out, want);

	sh(&r, "\"$KTRUN\" --off --log=/tmp/x.log " SHOW_ENV, NULL);
	snprintf(want, sizeof want, "mode=off log=/tmp/x.log format=unset stats=unset preload=%s\n",
	         lib);
	ck_assert_str_eq(r.out, want);

	/* Asking for JSON means wanting reports: stderr unless told otherwise. */
	sh(&r, "\"$KTRUN\" --json " SHOW_ENV, NULL);
	kt_test_expect_in(r.out, "log=stderr format=json", "--json");
	sh(&r, "\"$KTRUN\" --stats " SHOW_ENV, "KT_LOG=/tmp/from-env.log");
	kt_test_expect_in(r.out, "log=/tmp/from-env.log format=unset stats=1", "KT_LOG kept");

	sh(&r, "\"$KTRUN\" --observe=enforce sh -c 'echo \"observe=$KT_OBSERVE\"' && "
	       "\"$KTRUN\" --observe audit sh -c 'echo \"observe=$KT_OBSERVE\"'", NULL);
	ck_assert_str_eq(r.out, "observe=enforce\nobserve=audit\n");
}
END_TEST

/* An LD_PRELOAD already set stays first; libkt is appended, once. */
START_TEST(test_keeps_ld_preload)
{
	char lib[4200], want[8800];
	snprintf(lib, sizeof lib, "%s", kt_test_lib());
	/* Any library the loader can preload harmlessly will do: libc's libm. */
	const char *libm = "/lib/x86_64-linux-gnu/libm.so.6";
	if (access(libm, R_OK) != 0) {
		kt_test_skip("LD_PRELOAD kept", "no /lib/x86_64-linux-gnu/libm.so.6 to preload first");
		return;
	}
	char other[256];
	snprintf(other, sizeof other, "LD_PRELOAD=%s", libm);
	struct kt_test_output r;
	sh(&r, "\"$KTRUN\" sh -c 'echo \"$LD_PRELOAD\"'", other);
	snprintf(want, sizeof want, "%s:%s\n", libm, lib);
	ck_assert_str_eq(r.out, want);

	char same[4300];
	snprintf(same, sizeof same, "LD_PRELOAD=%s", lib);
	sh(&r, "\"$KTRUN\" sh -c 'echo \"$LD_PRELOAD\"'", same);
	snprintf(want, sizeof want, "%s\n", lib);
	ck_assert_str_eq(r.out, want);
}
END_TEST

/* libkt really is loaded in the command, in the mode asked for. */
START_TEST(test_loads_libkt)
{
	struct kt_test_output r;
	sh(&r, "\"$KTRUN\" \"$H/api_user\" && \"$KTRUN\" --audit \"$H/api_user\" && "
	       "\"$KTRUN\" --off \"$H/api_user\"", NULL);
	kt_test_expect_exit(&r, 0, "api_user");
	kt_test_expect_in(r.out, "loaded=1 version=" HEADER_VERSION, "enforce");
	kt_test_expect_in(r.out, "mode=2\n", "enforce");
	kt_test_expect_in(r.out, "mode=1\n", "audit");
	kt_test_expect_in(r.out, "mode=0\n", "off");
}
END_TEST

/* Reports as the flags say: text by default, JSON with --json, a summary
 * with --stats, into --log FILE. */
START_TEST(test_reports)
{
	struct kt_test_output r;
	sh(&r, "d=$(mktemp -d) && \"$KTRUN\" --json --stats --log \"$d/r.log\" \"$H/stale_kill\" "
	       "&& cat \"$d/r.log\" && rm -rf \"$d\"", NULL);
	kt_test_expect_exit(&r, 0, "--log --json --stats");
	kt_test_expect_in(r.out, "{\"event\":\"stale_kill\"", "--json");
	kt_test_expect_in(r.out, "\"action\":\"refused\"", "--json");
	kt_test_expect_in(r.out, "{\"event\":\"summary\"", "--stats");
	sh(&r, "\"$KTRUN\" --log stderr --audit \"$H/stale_kill\"", NULL);
	kt_test_expect_in(r.out, "libkt: stale kill(", "text");
}
END_TEST

/* Found through a symlink (e.g. ~/bin/kt-run -> the build tree). */
START_TEST(test_symlink)
{
	struct kt_test_output r;
	sh(&r, "d=$(mktemp -d) && ln -s \"$KTRUN\" \"$d/kt-run\" && \"$d/kt-run\" \"$H/api_user\"; "
	       "rm -rf \"$d\"", NULL);
	kt_test_expect_in(r.out, "loaded=1", "symlink");
}
END_TEST

/* ---- --check PID ------------------------------------------------------------ */

/* Whether a running process has libkt, from its memory map and the KT_MODE it
 * started with: a process kt-run started (protected, exit 0), a plain one and
 * one in audit mode (not protected, exit 1), one whose library file was
 * replaced since it started (still protected: it keeps the copy it mapped),
 * and a process that is gone (exit 125). */
START_TEST(test_check)
{
	struct kt_test_output r;
	sh(&r,
	   "lib=$(realpath \"$SRC/build/libkt.so\")\n"
	   "d=$(mktemp -d); cp \"$lib\" \"$d/libkt.so\"\n"
	   "\"$KTRUN\" sleep 30 & a=$!\n"
	   "sleep 30 & b=$!\n"
	   "\"$KTRUN\" --audit sleep 30 & c=$!\n"
	   "LD_PRELOAD=$d/libkt.so sleep 30 & e=$!\n"
	   /* kt-run is a script until it execs the command: wait for that. */
	   "for p in $a $c $e; do\n"
	   "  for i in $(seq 200); do grep -q libkt \"/proc/$p/maps\" && break; sleep 0.05; done\n"
	   "done\n"
	   "rm -rf \"$d\"\n"
	   /* The verdict is the first line; the settings follow. */
	   "\"$KTRUN\" --check $a | head -n 1; echo \"a=${PIPESTATUS[0]}\"\n"
	   "\"$KTRUN\" --check $b | head -n 1; echo \"b=${PIPESTATUS[0]}\"\n"
	   "\"$KTRUN\" --check=$c | head -n 1; echo \"c=${PIPESTATUS[0]}\"\n"
	   "\"$KTRUN\" --check $e | sed \"s|$d|DIR|\" | head -n 1; echo \"e=${PIPESTATUS[0]}\"\n"
	   "kill $a $b $c $e; wait $a $b $c $e\n"
	   "\"$KTRUN\" --check $a; echo \"gone=$?\"\n"
	   "echo \"lib=$lib\"\n",
	   NULL);
	kt_test_expect_exit(&r, 0, "--check");
	const char *l = strstr(r.out, "lib=");
	ck_assert_msg(l != NULL, "--check: no lib= line:\n%s", r.out);
	char want[4200];
	snprintf(want, sizeof want, "(sleep): protected: %.*s, mode enforce\na=0\n",
	         (int)strcspn(l + 4, "\n"), l + 4);
	kt_test_expect_in(r.out, want, "--check of a process kt-run started");
	kt_test_expect_in(r.out, "(sleep): not protected: libkt is not loaded\nb=1\n", "--check of a plain process");
	kt_test_expect_in(r.out, "is loaded with KT_MODE=audit (stale kills are reported, not refused)\nc=1\n",
	          "--check of a process in audit mode");
	kt_test_expect_in(r.out,
	          "(sleep): protected: DIR/libkt.so (replaced on disk since the process started; "
	          "it keeps the copy it loaded), mode enforce\ne=0\n",
	          "--check of a process whose library was removed since");
	kt_test_expect_in(r.out, ": no process ", "--check of a process that is gone");
	kt_test_expect_in(r.out, "gone=125\n", "--check of a process that is gone");
}
END_TEST

/* The settings of a running process, after the verdict: each with where it
 * came from (its environment at start, or the default); a process started in
 * secure-execution mode says so. */
START_TEST(test_check_settings)
{
	struct kt_test_output r;
	sh(&r,
	   "\"$KTRUN\" --audit --json --exitcode 7 --observe=enforce sleep 30 & a=$!\n"
	   "for i in $(seq 200); do grep -q libkt \"/proc/$a/maps\" && break; sleep 0.05; done\n"
	   "\"$KTRUN\" --check $a; echo \"a=$?\"\n"
	   "kill $a; wait $a; exit 0\n",
	   NULL);
	kt_test_expect_exit(&r, 0, "--check settings");
	kt_test_expect_in(r.out, "is loaded with KT_MODE=audit (stale kills are reported, not refused)\n"
	                 "  KT_MODE=audit                  # environment\n"
	                 "  KT_LOG=stderr                  # environment\n"
	                 "  KT_LOG_FORMAT=json             # environment\n"
	                 "  KT_STATS=0                     # default\n",
	          "--check settings");
	kt_test_expect_in(r.out, "  KT_MAX_FDS=64                  # default\n"
	                 "  KT_EXITCODE=7                  # environment\n"
	                 "  KT_OBSERVE=enforce             # environment\na=1\n",
	          "--check settings");
}
END_TEST

/* --config: what a command would run with, the options applied; bad values
 * are said in libkt's words (its own parser, through kt-config) and dropped
 * before the command runs. */
START_TEST(test_config)
{
	struct kt_test_output r;
	sh(&r,
	   "KT_IDENTITY=fd KT_MAX_FDS=2000 \"$KTRUN\" --off --log relative.log --config; echo \"s=$?\"\n"
	   "KT_MAX_FDS=1024 KT_LOG=syslog \"$KTRUN\" --config | grep -E '^KT_(MAX_FDS|LOG)='\n"
	   "KT_MAX_FDS=2000 KT_MODE=Audit \"$KTRUN\" sh -c 'echo \"max=${KT_MAX_FDS-unset} "
	   "mode=${KT_MODE-unset}\"'\n",
	   NULL);
	kt_test_expect_exit(&r, 0, "--config");
	kt_test_expect_in(r.out, "kt-run: ignoring KT_MAX_FDS=\"2000\" (expected a whole number from 0 to 1024); "
	                 "using 64\n",
	          "--config, a bound too high");
	kt_test_expect_in(r.out, "KT_MODE=off                    # environment\n", "--config --off");
	kt_test_expect_in(r.out, "/relative.log", "--config, --log made absolute");
	kt_test_expect_in(r.out, "KT_IDENTITY=fd                 # environment\n", "--config, KT_IDENTITY");
	kt_test_expect_in(r.out, "KT_MAX_FDS=64                  # default\n", "--config, the bad value");
	kt_test_expect_in(r.out, "s=0\n", "--config");
	kt_test_expect_in(r.out, "KT_LOG=syslog                  # environment\n"
	                 "KT_MAX_FDS=1024                # environment\n",
	          "--config, syslog and the bound");
	kt_test_expect_in(r.out, "kt-run: ignoring KT_MODE=\"Audit\" (expected enforce, audit or off); using "
	                 "enforce\n",
	          "a bad value said once");
	kt_test_expect_in(r.out, "max=unset mode=unset\n", "bad values dropped before the command");
}
END_TEST

/* The settings from /etc/libkt.conf, through kt-run: in the private mount
 * namespace of test/helpers/machine_ns, whose /etc/libkt.conf is the test's.
 * --config and --check name the file and line; the verdict too. */
START_TEST(test_config_file)
{
	struct kt_test_output r;
	sh(&r,
	   "d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT\n"
	   "printf '# the machine\\nmode = audit\\nmax_fds = 9000\\n' > \"$d/conf\"\n"
	   "\"$H/machine_ns\" --conf \"$d/conf\" -- bash -c '\n"
	   "  \"$KTRUN\" --config; echo \"s=$?\"\n"
	   "  KT_MODE=enforce \"$KTRUN\" --config 2>/dev/null | head -n 1\n"
	   "  \"$KTRUN\" sleep 30 & a=$!\n"
	   "  for i in $(seq 200); do grep -q libkt \"/proc/$a/maps\" && break; sleep 0.05; done\n"
	   "  \"$KTRUN\" --check $a; echo \"a=$?\"\n"
	   "  touch -d \"+1 minute\" /etc/libkt.conf; \"$KTRUN\" --check $a | tail -n 1\n"
	   "  kill $a; wait $a; exit 0' 2>&1\n",
	   NULL);
	if (strstr(r.out, "SKIP: machine_ns: ")) {
		kt_test_skip("libkt.conf through kt-run", strstr(r.out, "SKIP: machine_ns: ") + 18);
		return;
	}
	kt_test_expect_exit(&r, 0, "libkt.conf through kt-run");
	kt_test_expect_in(r.out, "kt-run: /etc/libkt.conf:3: ignoring max_fds = \"9000\" (expected a whole "
	                 "number from 0 to 1024); using 64\n",
	          "a bad line of the file");
	kt_test_expect_in(r.out, "KT_MODE=audit                  # /etc/libkt.conf:2\n", "--config, the file");
	kt_test_expect_in(r.out, "s=0\nKT_MODE=enforce                # environment\n",
	          "--config, the environment over the file");
	kt_test_expect_in(r.out, "is loaded with mode = audit in /etc/libkt.conf:2 (stale kills are reported, "
	                 "not refused)\n",
	          "--check, audit from the file");
	kt_test_expect_in(r.out, "a=1\n", "--check, audit from the file");
	kt_test_expect_in(r.out, "# /etc/libkt.conf changed after the process started: it may run with the "
	                 "settings the file had then\n",
	          "--check after the file changed");
}
END_TEST

/* The libkt.conf the package ships shows every key at its default: with
 * each "#key =" line uncommented, the settings are exactly those of no file,
 * the six that have a value taken from the file, and nothing is warned. */
START_TEST(test_shipped_conf_is_the_defaults)
{
	struct kt_test_output r;
	sh(&r,
	   "d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; unset KT_IDENTITY\n"
	   "sed -E 's/^#([a-z_]+ =)/\\1/' \"$SRC/docs/examples/libkt.conf\" > \"$d/conf\"\n"
	   "echo \"keys=$(grep -cE '^[a-z_]+ =' \"$d/conf\")\"\n"
	   "\"$KTRUN\" --config | sed 's/ *#.*//' > \"$d/none\"\n"
	   "\"$H/machine_ns\" --conf \"$d/conf\" -- \"$KTRUN\" --config > \"$d/conf.out\" 2>&1\n"
	   "cat \"$d/conf.out\"\n"
	   "sed 's/ *#.*//' \"$d/conf.out\" | cmp -s - \"$d/none\" && echo same\n"
	   "echo \"from-file=$(grep -c '# /etc/libkt.conf:' \"$d/conf.out\")\"\n",
	   NULL);
	if (strstr(r.out, "SKIP: machine_ns: ")) {
		kt_test_skip("the shipped libkt.conf", strstr(r.out, "SKIP: machine_ns: ") + 18);
		return;
	}
	kt_test_expect_exit(&r, 0, "the shipped libkt.conf");
	kt_test_expect_in(r.out, "keys=8\n", "a line for every key");
	kt_test_expect_in(r.out, "\nsame\n", "the defaults");
	kt_test_expect_in(r.out, "from-file=6\n", "the values read from the file");
	ck_assert_msg(strstr(r.out, "kt-run:") == NULL, "a warning:\n%s", r.out);
}
END_TEST

/* ---- make install / uninstall ------------------------------------------- */

START_TEST(test_install)
{
	struct kt_test_output r;
	/* A clean make environment: the outer make's jobserver is not ours. */
	sh(&r,
	   "set -e; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT\n"
	   "unset MAKEFLAGS MFLAGS MAKELEVEL\n"
	   "make -s -C \"$SRC\" install DESTDIR=\"$d\" PREFIX=/usr >/dev/null\n"
	   "for f in usr/lib/libkt.so usr/bin/kt-run usr/libexec/libkt/kt-decoy "
	   "usr/libexec/libkt/kt-config usr/include/kt.h "
	   "usr/share/man/man1/kt-run.1 usr/share/man/man7/libkt.7; do\n"
	   "  [ -e \"$d/$f\" ] && echo \"have $f $(stat -c %a \"$d/$f\")\"\n"
	   "done\n"
	   "\"$d/usr/bin/kt-run\" --version\n"
	   "\"$d/usr/bin/kt-run\" sh -c 'echo \"preload=$LD_PRELOAD\"' | sed \"s|$d|DESTDIR|\"\n"
	   "\"$d/usr/bin/kt-run\" \"$H/api_user\"\n"
	   "if \"$d/usr/bin/kt-run\" --provoke-reuse --audit --json \"$H/stale_kill\" 2>&1; then :; fi\n"
	   "make -s -C \"$SRC\" uninstall DESTDIR=\"$d\" PREFIX=/usr >/dev/null\n"
	   "echo left: $(cd \"$d\" && find . -type f | sort)\n",
	   NULL);
	kt_test_expect_exit(&r, 0, "install");
	kt_test_expect_in(r.out, "have usr/lib/libkt.so 755\n", "install");
	kt_test_expect_in(r.out, "have usr/bin/kt-run 755\n", "install");
	kt_test_expect_in(r.out, "have usr/libexec/libkt/kt-decoy 755\n", "install");
	kt_test_expect_in(r.out, "have usr/libexec/libkt/kt-config 755\n", "install");
	kt_test_expect_in(r.out, "have usr/include/kt.h 644\n", "install");
	kt_test_expect_in(r.out, "have usr/share/man/man1/kt-run.1 644\n", "install");
	kt_test_expect_in(r.out, "have usr/share/man/man7/libkt.7 644\n", "install");
	kt_test_expect_in(r.out, "kt-run (libkt) " HEADER_VERSION "\n", "installed kt-run");
	/* The installed kt-run uses the installed library, not the build tree. */
	kt_test_expect_in(r.out, "preload=DESTDIR/usr/lib/libkt.so\n", "installed kt-run");
	kt_test_expect_in(r.out, "loaded=1", "installed kt-run");
	if (kt_test_can_pidns(NULL))
		kt_test_expect_in(r.out, "\"decoy\":true", "installed kt-decoy");
	kt_test_expect_in(r.out, "left:\n", "uninstall");
}
END_TEST

/* A library directory that is not PREFIX/lib (Debian's /usr/lib/<multiarch>,
 * as make deb installs): the installed kt-run is told where it is. */
START_TEST(test_install_libdir)
{
	struct kt_test_output r;
	sh(&r,
	   "set -e; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT\n"
	   "unset MAKEFLAGS MFLAGS MAKELEVEL\n"
	   "make -s -C \"$SRC\" install DESTDIR=\"$d\" PREFIX=/usr LIBDIR=/usr/lib/some-triplet "
	   "LIBEXECDIR=/usr/lib/some-triplet/kt >/dev/null\n"
	   "\"$d/usr/bin/kt-run\" sh -c 'echo \"preload=$LD_PRELOAD\"' | sed \"s|$d|DESTDIR|\"\n"
	   "\"$d/usr/bin/kt-run\" \"$H/api_user\"\n"
	   "if \"$d/usr/bin/kt-run\" --provoke-reuse --audit --json \"$H/stale_kill\" 2>&1; then :; fi\n",
	   NULL);
	kt_test_expect_exit(&r, 0, "install LIBDIR=/usr/lib/some-triplet");
	kt_test_expect_in(r.out, "preload=DESTDIR/usr/lib/some-triplet/libkt.so\n", "installed kt-run");
	kt_test_expect_in(r.out, "loaded=1", "installed kt-run");
	if (kt_test_can_pidns(NULL))
		kt_test_expect_in(r.out, "\"decoy\":true", "kt-decoy in LIBEXECDIR");
}
END_TEST

/* The man pages are well-formed roff (groff's warnings, all enabled). */
START_TEST(test_man_pages)
{
	struct kt_test_output r;
	sh(&r, "command -v groff >/dev/null || { echo no-groff; exit 0; }; "
	       "for m in \"$SRC\"/man/kt-run.1 \"$SRC\"/man/libkt.7; do "
	       "groff -man -Tutf8 -ww -z \"$m\" 2>&1; done; echo done", NULL);
	if (strstr(r.out, "no-groff")) {
		kt_test_skip("man pages", "groff is not installed");
		return;
	}
	ck_assert_str_eq(r.out, "done\n");
}
END_TEST

/* ---- --provoke-reuse -------------------------------------------------------- */

/* The bug stale_kill carries is latent: ordinary runs, with or without libkt
 * protecting it, never hit anybody. */
START_TEST(test_latent_without_provoking)
{
	struct kt_test_output r;
	sh(&r, "for i in 1 2 3; do \"$H/stale_kill\"; done; \"$KTRUN\" --audit \"$H/stale_kill\"",
	   NULL);
	kt_test_expect_exit(&r, 0, "ordinary runs");
	const char *p = r.out;
	for (int i = 0; i < 4; i++) {
		p = strstr(p, "kill=-1 errno=ESRCH\n");
		ck_assert_msg(p != NULL, "run %d was not latent:\n%s", i, r.out);
		p++;
	}
	ck_assert_msg(!strstr(r.out, "kill=0"), "an ordinary run hit a process:\n%s", r.out);
}
END_TEST

static void expect_provoked(const struct kt_test_output *r, int audit, const char *what)
{
	kt_test_expect_exit(r, 0, what);
	/* Audit: the kill lands on the decoy and "succeeds" — the bug, shown.
	 * Enforce: refused, and the report says what it would have hit. */
	kt_test_expect_in(r->out, audit ? "kill=0 errno=0\n" : "kill=-1 errno=ESRCH\n", what);
	kt_test_expect_in(r->out, "{\"event\":\"stale_kill\"", what);
	kt_test_expect_in(r->out, audit ? "\"action\":\"delivered\",\"errno\":0"
	                        : "\"action\":\"refused\",\"errno\":3", what);
	kt_test_expect_in(r->out, "\"comm\":\"kt-decoy\",\"ppid\":1,\"decoy\":true}", what);
}

START_TEST(test_provoke_audit)
{
	if (!kt_test_can_pidns(NULL)) {
		kt_test_skip("--provoke-reuse --audit", "no PID namespace can be made here");
		return;
	}
	struct kt_test_output r;
	sh(&r, "\"$KTRUN\" --provoke-reuse --audit --json \"$H/stale_kill\"", NULL);
	expect_provoked(&r, 1, "--provoke-reuse --audit");
}
END_TEST

START_TEST(test_provoke_enforce)
{
	if (!kt_test_can_pidns(NULL)) {
		kt_test_skip("--provoke-reuse", "no PID namespace can be made here");
		return;
	}
	struct kt_test_output r;
	sh(&r, "\"$KTRUN\" --provoke-reuse --json \"$H/stale_kill\"", NULL);
	expect_provoked(&r, 0, "--provoke-reuse");
	sh(&r, "\"$KTRUN\" --provoke-reuse \"$H/stale_kill\"", NULL);
	kt_test_expect_in(r.out, "(parent 1, a decoy placed by kt-run --provoke-reuse)", "text report");
}
END_TEST

/* A grandchild reaper: the shell runs the program, which inherits the
 * provoke socket and LD_PRELOAD across exec. */
START_TEST(test_provoke_through_shell)
{
	if (!kt_test_can_pidns(NULL)) {
		kt_test_skip("--provoke-reuse through a shell", "no PID namespace can be made here");
		return;
	}
	struct kt_test_output r;
	sh(&r, "\"$KTRUN\" --provoke-reuse --audit --json bash -c '\"$H/stale_kill\"; true'", NULL);
	expect_provoked(&r, 1, "--provoke-reuse, program under bash");
}
END_TEST

START_TEST(test_provoke_statuses)
{
	if (!kt_test_can_pidns(NULL)) {
		kt_test_skip("--provoke-reuse statuses", "no PID namespace can be made here");
		return;
	}
	struct kt_test_output r;
	sh(&r, "exec \"$KTRUN\" --provoke-reuse sh -c 'exit 7'", NULL);
	kt_test_expect_exit(&r, 7, "--provoke-reuse exit 7");
	sh(&r, "exec \"$KTRUN\" --provoke-reuse sh -c 'kill -TERM $$'", NULL);
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM,
	              "expected death by SIGTERM, status 0x%x:\n%s", r.status, r.out);
	sh(&r, "\"$KTRUN\" --provoke-reuse sleep 30 & sleep 0.5; kill -TERM $!; wait $!; "
	       "echo \"status=$?\"", NULL);
	kt_test_expect_in(r.out, "status=143\n", "--provoke-reuse, SIGTERM from outside");
	sh(&r, "\"$KTRUN\" --provoke-reuse /nonexistent/kt-no-such; echo \"status=$?\"", NULL);
	kt_test_expect_in(r.out, "status=127\n", "--provoke-reuse, not found");
}
END_TEST

/* A KT_PROVOKE_FD whose descriptor is not the provoker's socket (closed, or
 * the number reused for a file) is ignored: nothing is written to it, the
 * program runs as usual. */
START_TEST(test_provoke_fd_not_ours)
{
	struct kt_test_output r;
	char lib[4300];
	snprintf(lib, sizeof lib, "LIB=%s", kt_test_lib());
	sh(&r, "f=$(mktemp); exec 7>>\"$f\"; "
	       "KT_PROVOKE_FD=7:$(stat -c %i \"$f\") LD_PRELOAD=$LIB \"$H/stale_kill\"; "
	       "KT_PROVOKE_FD=9:12345 LD_PRELOAD=$LIB \"$H/stale_kill\"; "
	       "echo \"size=$(stat -c %s \"$f\")\"; rm -f \"$f\"", lib);
	kt_test_expect_exit(&r, 0, "KT_PROVOKE_FD not a socket");
	const char *first = strstr(r.out, "kill=-1 errno=ESRCH\n");
	ck_assert_msg(first && strstr(first + 1, "kill=-1 errno=ESRCH\n"), "%s", r.out);
	kt_test_expect_in(r.out, "size=0\n", "nothing written to a file on that number");
}
END_TEST

/* The demo's job runner (test/helpers/legacy_worker): its SIGCHLD handler
 * reaps the worker, and its cancel path kills the old number.  Driven line
 * by line, waiting for "finished" before "cancel", so the kill is stale
 * every time; ordinary runs still never hit anybody. */
#define LEGACY_DRIVER \
	"drive() { coproc W { \"$@\" 2>&1; }\n" \
	"  local line; echo start >&${W[1]}\n" \
	"  while IFS= read -r -t 5 line <&${W[0]}; do echo \"$line\";\n" \
	"    case $line in *finished*) break ;; esac; done\n" \
	"  echo cancel >&${W[1]}\n" \
	"  while IFS= read -r -t 5 line <&${W[0]}; do echo \"$line\";\n" \
	"    case $line in *cancel:*) break ;; esac; done\n" \
	"  echo quit >&${W[1]}; wait $W_PID; echo \"status=$?\"; }\n"

START_TEST(test_provoke_legacy_worker)
{
	if (!kt_test_can_pidns(NULL)) {
		kt_test_skip("--provoke-reuse on legacy_worker", "no PID namespace can be made here");
		return;
	}
	struct kt_test_output r;
	sh(&r, LEGACY_DRIVER "drive \"$H/legacy_worker\"; drive \"$H/legacy_worker\"", NULL);
	kt_test_expect_exit(&r, 0, "legacy_worker, ordinary runs");
	const char *first = strstr(r.out, ", SIGTERM) = -1 ESRCH");
	ck_assert_msg(first && strstr(first + 1, ", SIGTERM) = -1 ESRCH"),
	              "ordinary runs were not latent:\n%s", r.out);

	sh(&r, LEGACY_DRIVER "drive \"$KTRUN\" --provoke-reuse --audit \"$H/legacy_worker\"", NULL);
	kt_test_expect_in(r.out, "was reaped by the SIGCHLD handler", "legacy_worker, provoked");
	kt_test_expect_in(r.out, "runner: cancel: kill(3, SIGTERM) = 0\n", "legacy_worker, provoked");
	kt_test_expect_holder(r.out, "the signal hit another process: ",
	                      "\"kt-decoy\" (parent 1, a decoy", "legacy_worker");
	kt_test_expect_in(r.out, "status=0\n", "legacy_worker, provoked");

	sh(&r, LEGACY_DRIVER "drive \"$KTRUN\" --provoke-reuse \"$H/legacy_worker\"", NULL);
	kt_test_expect_in(r.out, "runner: cancel: kill(3, SIGTERM) = -1 ESRCH", "legacy_worker, enforce");
	kt_test_expect_holder(r.out, "PID now held by another process: ", "\"kt-decoy\"",
	                      "legacy_worker, enforce");
}
END_TEST

/* ---- as an ordinary user ------------------------------------------------------ */

#define TEST_USER "ktrun-test"

/* A copy of what kt-run needs where any user can read it (the build tree
 * may sit under a private home directory). */
static int public_copy(char *dir, size_t size)
{
	struct kt_test_output r;
	sh(&r, "set -e; d=$(mktemp -d /tmp/kt-user-XXXXXX); chmod 755 \"$d\"; "
	       "mkdir -p \"$d/scripts\" \"$d/build/test/helpers\"; "
	       "cp \"$KTRUN\" \"$d/scripts/\"; cp \"$SRC/build/libkt.so\" \"$SRC/build/kt-decoy\" \"$SRC/build/kt-config\" "
	       "\"$d/build/\"; cp \"$H/stale_kill\" \"$d/build/test/helpers/\"; "
	       "chmod -R a+rX \"$d\"; printf %s \"$d\"", NULL);
	size_t n = strlen(r.out);
	if (kt_test_exit_code(r.status) != 0 || n == 0 || n >= size)
		return 0;
	memcpy(dir, r.out, n + 1);
	return 1;
}

/* Run SCRIPT as TEST_USER (root: created with useradd if missing) or, when
 * not root, as ourselves.  Returns 0 (SKIP printed) when impossible. */
static int as_user(struct kt_test_output *r, const char *script, const char *what, int *created)
{
	char cmd[8192];
	if (geteuid() == 0) {
		struct kt_test_output u;
		sh(&u, "id -u " TEST_USER " >/dev/null 2>&1 && echo exists || "
		       "useradd --system --no-create-home --shell /usr/sbin/nologin " TEST_USER, NULL);
		if (kt_test_exit_code(u.status) != 0) {
			kt_test_skip(what, "cannot create a user to run as (useradd failed)");
			return 0;
		}
		*created = strstr(u.out, "exists") == NULL;
		snprintf(cmd, sizeof cmd,
		         "cd /tmp && exec setpriv --reuid=" TEST_USER " --regid=" TEST_USER
		         " --clear-groups --reset-env -- /bin/bash -c '%s'", script);
	} else {
		snprintf(cmd, sizeof cmd, "%s", script);
	}
	sh(r, cmd, NULL);
	return 1;
}

START_TEST(test_provoke_unprivileged)
{
	const char *what = "--provoke-reuse as an ordinary user";
	char dir[512];
	ck_assert_msg(public_copy(dir, sizeof dir), "could not copy the build for the user");
	char script[2048];
	snprintf(script, sizeof script,
	         "id -u; %s/scripts/kt-run --provoke-reuse --audit --json "
	         "%s/build/test/helpers/stale_kill; echo \"status=$?\"", dir, dir);
	struct kt_test_output r;
	int created = 0;
	if (as_user(&r, script, what, &created)) {
		if (strstr(r.out, "status=125") &&
		    strstr(r.out, "needs a private PID namespace")) {
			kt_test_skip(what, "this system does not allow unprivileged user namespaces");
		} else {
			ck_assert_msg(strncmp(r.out, "0\n", 2) != 0, "%s ran as root:\n%s", what, r.out);
			kt_test_expect_in(r.out, "status=0\n", what);
			kt_test_expect_in(r.out, "kill=0 errno=0\n", what);
			kt_test_expect_in(r.out, "\"comm\":\"kt-decoy\",\"ppid\":1,\"decoy\":true}", what);
		}
	}
	struct kt_test_output c;
	char rm[700];
	snprintf(rm, sizeof rm, "rm -rf '%s'%s", dir, created ? "; userdel " TEST_USER : "");
	sh(&c, rm, NULL);
}
END_TEST

/* Where user namespaces are forbidden, a clear message and status 125.  As
 * root this is staged: an ordinary uid inside a user namespace whose
 * user.max_user_namespaces is 0 (a per-namespace limit: nothing outside is
 * touched). */
START_TEST(test_provoke_forbidden)
{
	const char *what = "--provoke-reuse where user namespaces are forbidden";
	char dir[512];
	ck_assert_msg(public_copy(dir, sizeof dir), "could not copy the build");
	char kt_run[600], helper[600];
	snprintf(kt_run, sizeof kt_run, "%s/scripts/kt-run", dir);
	snprintf(helper, sizeof helper, "%s/build/test/helpers/stale_kill", dir);

	int out[2];
	ck_assert_int_eq(pipe(out), 0);
	int go[2], ready[2];
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(ready), 0);
	int staged = 0;
	pid_t pid = -1;
	if (geteuid() == 0) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(go[1]);
			dup2(out[1], 1);
			dup2(out[1], 2);
			close(ready[0]);
			if (unshare(CLONE_NEWUSER) < 0)
				_exit(90);
			(void)!write(ready[1], "u", 1); /* the parent may write our maps now */
			close(ready[1]);
			char c;
			if (read(go[0], &c, 1) != 1 || c != 'y') /* maps written */
				_exit(91);
			int fd = open("/proc/sys/user/max_user_namespaces", O_WRONLY);
			if (fd < 0 || write(fd, "0", 1) != 1)
				_exit(92);
			close(fd);
			if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
			    setresuid(65534, 65534, 65534) < 0)
				_exit(93);
			execl(kt_run, "kt-run", "--provoke-reuse", helper, (char *)NULL);
			_exit(94);
		}
		close(go[0]);
		close(ready[1]);
		char u = 0;
		/* No 'u': the child could not unshare and has exited (or is about
		 * to); with its end of GO gone, a write there would be SIGPIPE. */
		int unshared = read(ready[0], &u, 1) == 1 && u == 'u';
		close(ready[0]);
		if (unshared) {
			char path[64];
			/* Root outside may write several ranges: root and the unprivileged id. */
			snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
			int ok = 1, fd = open(path, O_WRONLY);
			ok &= fd >= 0 && write(fd, "0 0 1\n65534 65534 1\n", 20) == 20;
			close(fd);
			snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
			fd = open(path, O_WRONLY);
			ok &= fd >= 0 && write(fd, "0 0 1\n65534 65534 1\n", 20) == 20;
			close(fd);
			(void)!write(go[1], ok ? "y" : "n", 1);
		}
		close(go[1]);
		staged = 1;
	} else {
		close(go[0]);
		close(go[1]);
		close(ready[0]);
		close(ready[1]);
	}
	if (geteuid() != 0 && !kt_test_can_pidns(NULL)) {
		/* Really forbidden here: the real thing. */
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			dup2(out[1], 1);
			dup2(out[1], 2);
			execl(kt_run, "kt-run", "--provoke-reuse", helper, (char *)NULL);
			_exit(94);
		}
		staged = 1;
	}
	close(out[1]);
	char buf[4096] = "";
	size_t len = 0;
	ssize_t n;
	while ((n = read(out[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(out[0]);
	int st = 0;
	if (pid > 0)
		waitpid(pid, &st, 0);
	struct kt_test_output c;
	char rm[600];
	snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
	sh(&c, rm, NULL);
	if (!staged) {
		kt_test_skip(what, "not root, and user namespaces are allowed: nothing to stage");
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 90) {
		kt_test_skip(what, "root cannot create a user namespace here (a chroot, or a sandbox "
		           "that forbids them) to stage it in");
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) >= 91 && WEXITSTATUS(st) <= 93) {
		char why[96];
		snprintf(why, sizeof why, "could not stage it (step %d)", WEXITSTATUS(st) - 90);
		kt_test_skip(what, why);
		return;
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 125, "%s: status 0x%x:\n%s", what, st, buf);
	kt_test_expect_in(buf, "kt-run: --provoke-reuse needs a private PID namespace", what);
	kt_test_expect_in(buf, "max_user_namespaces", what);
	ck_assert_msg(!strstr(buf, "job="), "%s: the command ran anyway:\n%s", what, buf);
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
	setup();
	Suite *s = kt_test_preload_suite("kt-run");
	TCase *tc = kt_test_tcase(s, "options", 0, test_help, test_version, test_double_dash);
	tcase_add_loop_test(tc, test_bad_option, 0, N_OF(bad_options));

	kt_test_tcase(s, "statuses", 0, test_exit_status, test_signal_status,
	              test_command_not_runnable);

	kt_test_tcase(s, "environment", 0, test_flags_to_env, test_keeps_ld_preload,
	              test_loads_libkt, test_reports, test_symlink);

	kt_test_tcase(s, "check", 0, test_check, test_check_settings, test_config, test_config_file,
	              test_shipped_conf_is_the_defaults);

	kt_test_tcase(s, "install", 120, test_install, test_install_libdir, test_man_pages);

	kt_test_tcase(s, "provoke-reuse", 0, test_latent_without_provoking,
	              test_provoke_fd_not_ours, test_provoke_audit, test_provoke_enforce,
	              test_provoke_through_shell, test_provoke_statuses,
	              test_provoke_legacy_worker, test_provoke_unprivileged,
	              test_provoke_forbidden);

	return kt_test_main(s);
}
