/*
 * memwrap.c — runs a command and writes its peak resident set (ru_maxrss,
 * KiB) to a file, for run-bench.py.
 *
 * usage: memwrap OUTFILE CMD [ARGS...]
 * Why not measure from the runner: Linux carries the parent's high-water
 * mark into a forked (or vforked) child across exec, so a child of the
 * Python runner never reports less than the runner's own ~14 MiB. This
 * parent is a few hundred KiB, below any client measured. Exit status:
 * the command's (128 + signal when killed), 127 when it cannot be run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: memwrap OUTFILE CMD [ARGS...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("memwrap: fork");
    return 127;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    perror("memwrap: exec");
    _exit(127);
  }
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0) {
  }
  FILE *f = fopen(argv[1], "w");
  if (f) {
    fprintf(f, "%ld\n", ru.ru_maxrss);
    fclose(f);
  }
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
