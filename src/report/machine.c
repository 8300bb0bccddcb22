/*
 * machine.c — the machine a report ran on, so a reader can judge the
 * numbers: CPU model, cores online, memory, kernel, whether /dev/kvm is
 * usable, the gnuplot used, and when (UTC).
 */
#include "report/report_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* The value after "key<spaces>:" on the first matching line of path. */
static int file_field(const char *path, const char *key, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[512];
	size_t kl = strlen(key);
	int found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) != 0)
			continue;
		char *p = line + kl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ':')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, n, "%s", p);
		found = 1;
	}
	fclose(f);
	return found;
}

/* PRETTY_NAME from /etc/os-release ("Debian GNU/Linux 12 (bookworm)"),
 * at most 127 characters. */
static void os_name(char *out, size_t n)
{
	snprintf(out, n, "unknown");
	FILE *f = fopen("/etc/os-release", "r");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
			char *v = line + 12;
			v[strcspn(v, "\n")] = '\0';
			size_t l = strlen(v);
			if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
				v[l - 1] = '\0';
				v++;
			}
			snprintf(out, n, "%.127s", v);
			break;
		}
	fclose(f);
}

json_t *rpt__machine(void)
{
	char cpu[256] = "unknown", mem[64] = "unknown", when[64] = "";
	file_field("/proc/cpuinfo", "model name", cpu, sizeof(cpu));
	file_field("/proc/meminfo", "MemTotal", mem, sizeof(mem));
	struct utsname u;
	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *kvm = access("/dev/kvm", R_OK | W_OK) == 0 ? "usable"
			  : access("/dev/kvm", F_OK) == 0      ? "present, no permission"
							       : "absent";
	char os[128], gp[128] = "not found";
	os_name(os, sizeof(os));
	FILE *p = popen("gnuplot --version 2>/dev/null", "r");
	if (p) {
		if (fgets(gp, sizeof(gp), p))
			gp[strcspn(gp, "\n")] = '\0';
		else
			snprintf(gp, sizeof(gp), "not found");
		pclose(p);
	}
	return json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "date_utc", when, "cpu", cpu,
			 "cpus_online", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "memory", mem,
			 "kernel", u.release, "os", os, "arch", u.machine, "dev_kvm", kvm,
			 "gnuplot", gp);
}
