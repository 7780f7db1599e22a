/* SPDX-License-Identifier: MIT */
/* secure_log LIBKT: load libkt with dlopen (a set-user-ID program ignores
 * LD_PRELOAD paths, but its own dlopen of a full path works) and say whether
 * this process runs in secure-execution mode.  libkt's constructor has then
 * read KT_LOG: preload_hostile checks that the file it names was not created
 * when AT_SECURE is set, and was when it is not. */
#include <dlfcn.h>
#include <stdio.h>
#include <sys/auxv.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	if (!h) {
		printf("dlopen failed: %s\n", dlerror());
		return 3;
	}
	printf("secure=%lu loaded=%d\n", getauxval(AT_SECURE), dlsym(h, "kt_version") != NULL);
	return 0;
}
