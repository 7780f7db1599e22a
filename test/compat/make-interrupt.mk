# SPDX-License-Identifier: MIT
# Fixture for test/preload_compat.c (copied into a fresh directory per run).
#
# make -j3 all: three recipes that each record their PID (and make's), write
# half of their target, say they have started, then become `sleep 30` until
# make, interrupted, kills them.  make then deletes the half-made targets.
all: a.out b.out c.out

%.out:
	@echo $$PPID > make.pid; echo $$$$ > $*.pid; echo partial > $@; touch $*.started; exec sleep 30

# make -s -j3 quick: a build that completes.
quick: one two three

one two three:
	@echo $@
