/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's network: the loopback interface, and each "net" line's
 * interface, found by its MAC address, with its static IPv4 address and,
 * on a NAT segment, a default route through the gateway.  Plain ioctls:
 * the init has no netlink library and needs none for this.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init.h"

#define NET_DIR "/sys/class/net"

/* The name of the interface whose address is `mac`, if it is there yet. */
static bool find_interface(const char *mac, char *name, size_t len)
{
	DIR *d = opendir(NET_DIR);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char path[300], buf[64];
		size_t n;
		if (e->d_name[0] == '.' || strlen(e->d_name) >= IFNAMSIZ)
			continue;
		snprintf(path, sizeof(path), NET_DIR "/%s/address", e->d_name);
		if (gi_read_file(path, buf, sizeof(buf), &n) < 0)
			continue;
		if (n && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		if (strcmp(buf, mac) == 0) {
			snprintf(name, len, "%s", e->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

static void set_in_addr(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;

	memset(in, 0, sizeof(*in));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(addr);
}

static void interface_up(int fd, const char *name)
{
	struct ifreq ifr = {0};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		gi_fail(SP_GP_STAGE_NET, "%s: reading its flags: %s", name, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		gi_fail(SP_GP_STAGE_NET, "%s: bringing it up: %s", name, strerror(errno));
}

static void configure(int fd, const struct gi_net *n, const char *name, bool *have_default)
{
	struct ifreq ifr = {0};
	uint32_t mask = ~(uint32_t)0 << (32 - n->prefix);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	set_in_addr(&ifr.ifr_addr, n->address);
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		gi_fail(SP_GP_STAGE_NET, "%s: setting its address: %s", name, strerror(errno));
	set_in_addr(&ifr.ifr_netmask, mask);
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		gi_fail(SP_GP_STAGE_NET, "%s: setting its netmask: %s", name, strerror(errno));
	interface_up(fd, name);
	/* One default route: the first segment with a gateway (a NAT one). */
	if (n->gateway && !*have_default) {
		struct rtentry rt = {0};
		set_in_addr(&rt.rt_dst, 0);
		set_in_addr(&rt.rt_genmask, 0);
		set_in_addr(&rt.rt_gateway, n->gateway);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = ifr.ifr_name;
		if (ioctl(fd, SIOCADDRT, &rt) < 0)
			gi_fail(SP_GP_STAGE_NET, "%s: default route: %s", name, strerror(errno));
		*have_default = true;
	}
}

void gi_net_setup(const struct gi_config *cfg, int64_t deadline)
{
	bool have_default = false;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		gi_fail(SP_GP_STAGE_NET, "socket: %s", strerror(errno));
	/* Programs expect localhost even without a network. */
	interface_up(fd, "lo");
	for (size_t i = 0; i < cfg->nnets; i++) {
		const struct gi_net *n = &cfg->nets[i];
		char name[IFNAMSIZ];
		/* virtio_net is loaded by now; its interfaces appear as their
		 * devices are probed. */
		while (!find_interface(n->mac, name, sizeof(name))) {
			if (gi_now_ms() > deadline)
				gi_fail(SP_GP_STAGE_NET, "no network interface with MAC address %s",
					n->mac);
			gi_sleep_ms(GI_POLL_MS);
		}
		configure(fd, n, name, &have_default);
	}
	close(fd);
}
