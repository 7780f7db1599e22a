/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/stat.h>
int main(int c,char**v){int fd=syscall(SYS_pidfd_open,atoi(v[1]),0);struct stat st;fstat(fd,&st);printf("pidfs ino %lu dev %lx\n",st.st_ino,st.st_dev);return 0;}
