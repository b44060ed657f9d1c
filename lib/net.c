/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Network segments on the host: bridges, taps, NAT (see net.h).  The
 * kernel objects are made with ioctls on an AF_INET socket and on
 * /dev/net/tun, the NAT rules with `nft -f -` fed a ruleset generated
 * here (an argv, never a shell).
 */
#include "net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

#define SP_NFT_TABLE_PREFIX "spectrum_"

/* The lock that serializes segment changes: RUN_DIR/net.lock. */
static int sp_net_lock(const char *run_dir)
{
	char path[4096 + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/net.lock", run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	return sp_flock_wait(fd);
}

static void sp_net_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* The host run directory: the parent of the plan's RUN_DIR/INSTANCE. */
static void sp_net_run_dir(const struct sp_plan *p, char *out, size_t len)
{
	const char *slash = strrchr(p->run_dir, '/');

	snprintf(out, len, "%.*s", slash && slash != p->run_dir ? (int)(slash - p->run_dir) : 1,
		 slash ? p->run_dir : "/");
}

static int sp_net_sock(struct sp_err *err)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		sp_err_set(err, "socket: %s", strerror(errno));
	return fd;
}

static void sp_ifr(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
}

static int sp_net_set_up(int sock, const char *name, bool up, struct sp_err *err)
{
	struct ifreq ifr;

	sp_ifr(&ifr, name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	return 0;
fail:
	sp_err_set(err, "network interface %s: cannot bring it %s: %s", name, up ? "up" : "down",
		   strerror(errno));
	return -1;
}

/* Writes one sysctl of an interface; a missing file (no IPv6 in this
 * kernel) is fine only where `optional`. */
static int sp_net_sysctl(const char *family, const char *dev, const char *key, const char *value,
			 bool optional, struct sp_err *err)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family, dev, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && optional && errno == ENOENT)
		return 0;
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value)) {
		sp_err_set(err, "cannot set %s to %s: %s", path, value, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int sp_net_set_in_addr(int sock, unsigned long req, const char *name, const char *addr,
			      struct sp_err *err)
{
	struct ifreq ifr;
	struct sockaddr_in *in = (struct sockaddr_in *)&ifr.ifr_addr;

	sp_ifr(&ifr, name);
	in->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &in->sin_addr) != 1 || ioctl(sock, req, &ifr) < 0) {
		sp_err_set(err, "network interface %s: cannot set %s: %s", name, addr,
			   strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Runs nft with `args` (an argv, no shell), `input` on its standard input
 * (or none), and reads what it prints on `capture` (1 or 2) into out; the
 * other goes to /dev/null.  Returns its exit status (128 + N if a signal N
 * killed it), or -1 with err set if it could not run (err->missing: nft
 * is not installed).
 */
static int sp_net_nft_run(char *const args[], const char *input, int capture, char *out,
			  size_t outlen, struct sp_err *err)
{
	int in[2] = {-1, -1}, pipefd[2] = {-1, -1}, status, rc = -1;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		sp_err_set(err, "cannot run nft: %s", strerror(errno));
		goto out;
	}
	struct sp_spawn s = {.argv = args,
			     .in = in[0],
			     .out = capture == 1 ? pipefd[1] : -1,
			     .err = capture == 2 ? pipefd[1] : -1};
	if (sp_spawn_start(&s, &pid, err) < 0)
		goto out;
	close(in[0]);
	close(pipefd[1]);
	in[0] = pipefd[1] = -1;
	/* A ruleset is a few hundred bytes: it fits in the pipe.  If nft
	 * ended without reading it, the write fails with EPIPE, and the
	 * SIGPIPE it raises, blocked here, is taken back: the caller may not
	 * ignore it.  nft's status says what happened. */
	if (input) {
		sigset_t pipe_set, old, pending;
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		sigprocmask(SIG_BLOCK, &pipe_set, &old);
		sigpending(&pending);
		if (write(in[1], input, strlen(input)) < 0 && errno == EPIPE &&
		    !sigismember(&pending, SIGPIPE)) {
			struct timespec zero = {0, 0};
			sigtimedwait(&pipe_set, NULL, &zero);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	close(in[1]);
	in[1] = -1;
	while (got < outlen - 1 && (n = read(pipefd[0], out + got, outlen - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	if (sp_spawn_wait(pid, &status) < 0)
		sp_err_set(err, "cannot wait for nft: %s", strerror(errno));
	else
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (pipefd[i] >= 0)
			close(pipefd[i]);
	}
	return rc;
}

/* Applies a ruleset with `nft -f -` (one transaction); the first line of
 * nft's complaint goes into err. */
static int sp_net_nft(const char *ruleset, struct sp_err *err)
{
	char *const args[] = {"nft", "-f", "-", NULL};
	char msg[512];
	int rc = sp_net_nft_run(args, ruleset, 2, msg, sizeof(msg), err);

	if (rc == 0)
		return 0;
	if (rc < 0 && err->missing) {
		sp_err_set(err, "nft is missing; install it (Debian package nftables) to use a NAT segment");
		return -1;
	}
	if (rc < 0)
		return -1;
	msg[strcspn(msg, "\n")] = '\0';
	sp_err_set(err, "nft failed: %s", msg[0] ? msg : "(no message)");
	return -1;
}

/* Removes our table of a bridge, whether or not it exists, atomically. */
static int sp_net_nft_delete(const char *bridge, struct sp_err *err)
{
	char rs[256];

	snprintf(rs, sizeof(rs),
		 "table inet " SP_NFT_TABLE_PREFIX "%s\ndelete table inet " SP_NFT_TABLE_PREFIX "%s\n",
		 bridge, bridge);
	return sp_net_nft(rs, err);
}

/*
 * The NAT segment's table, replaced as a whole in one transaction.  Its
 * rules only ever restrict, or let through the segment's own outbound
 * traffic and its replies: in nftables an accept ends only this chain,
 * so a table left behind by a crash can open nothing that another chain
 * of the host drops.  Packets bridged between two instances of the
 * segment (seen here with iif = oif = the bridge when br_netfilter is
 * loaded) are left alone.
 */
static int sp_net_nft_nat(const struct sp_plan_nic *n, struct sp_err *err)
{
	char rs[2048];
	const char *b = n->bridge;

	snprintf(rs, sizeof(rs),
		 "table inet " SP_NFT_TABLE_PREFIX "%s\n"
		 "delete table inet " SP_NFT_TABLE_PREFIX "%s\n"
		 "table inet " SP_NFT_TABLE_PREFIX "%s {\n"
		 /* Into the segment: replies to what it opened, nothing new;
		  * out of it: IPv4 from its own subnet only (no spoofing). */
		 "\tchain forward {\n"
		 "\t\ttype filter hook forward priority filter; policy accept;\n"
		 "\t\toifname \"%s\" iifname != \"%s\" ct state established,related accept\n"
		 "\t\toifname \"%s\" iifname != \"%s\" drop\n"
		 "\t\tiifname \"%s\" oifname != \"%s\" meta nfproto != ipv4 drop\n"
		 "\t\tiifname \"%s\" oifname != \"%s\" ip saddr != %s/%u drop\n"
		 "\t}\n"
		 /* To the host itself (the gateway or any other address of
		  * it): replies only; the segment reaches the outside, not
		  * the host's services. */
		 "\tchain input {\n"
		 "\t\ttype filter hook input priority filter; policy accept;\n"
		 "\t\tiifname \"%s\" ct state established,related accept\n"
		 "\t\tiifname \"%s\" drop\n"
		 "\t}\n"
		 /* Leaving the host, the segment's connections take the
		  * address of the interface they leave by. */
		 "\tchain postrouting {\n"
		 "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		 "\t\tiifname \"%s\" oifname != \"%s\" ip saddr %s/%u masquerade\n"
		 "\t}\n"
		 "}\n",
		 b, b, b, b, b, b, b, b, b, b, b, n->subnet, n->prefix, b, b, b, b, n->subnet,
		 n->prefix);
	return sp_net_nft(rs, err);
}

/*
 * Routing between a NAT segment and the host's other networks.  Linux
 * routes an IPv4 packet only if the interface it came in on forwards
 * (net.ipv4.conf.IF.forwarding), so the segment's own bridge forwarding
 * is enough for what leaves it, but not for the replies: they come in on
 * the host's uplink, whichever it is now or later (Wi-Fi, Ethernet, a
 * VPN coming up).  The host-wide switch is what turns forwarding on for
 * every interface, and, through conf/default, for those made later;
 * writing it changes nothing when it is already on.  It stays on: other
 * users of the host may rely on it too.  But it also turns forwarding on
 * for the isolated segments' bridges: sp_net_isolate_all() turns it off
 * again, under the same lock.
 */
static int sp_net_ip_forward(struct sp_err *err)
{
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1", 1) != 1) {
		sp_err_set(err, "cannot turn on IPv4 forwarding: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Is this a segment's bridge: "spb" and 12 hex digits (see plan.c)? */
static bool sp_net_bridge_name(const char *name)
{
	return strlen(name) == 15 && strncmp(name, "spb", 3) == 0 &&
	       strspn(name + 3, "0123456789abcdef") == 12;
}

/*
 * An isolated segment's bridge routes nothing: IPv4 forwarding off on it
 * (a packet that came in on it is never routed, whatever the host's other
 * interfaces do), and IPv6 off (IPv6 forwarding is host-wide only, the
 * per-interface value is host or router behaviour; a packet that comes in
 * on an interface with IPv6 disabled is dropped before routing).  Both
 * are per-interface values that a host-wide write sets on every
 * interface (net.ipv4.ip_forward, net.ipv6.conf.all.disable_ipv6), so
 * they are set again on every segment set-up, not only when the bridge
 * is made.
 */
static int sp_net_isolate(const char *bridge, struct sp_err *err)
{
	if (sp_net_sysctl("ipv4", bridge, "forwarding", "0", false, err) < 0 ||
	    sp_net_sysctl("ipv6", bridge, "disable_ipv6", "1", true, err) < 0)
		return -1;
	return 0;
}

/* Is the interface a bridge?  A tap's name can look like a bridge's
 * ("sp" and 13 hex digits, the first a b); its driver is tun. */
static bool sp_net_is_bridge(int sock, const char *name)
{
	struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr;

	sp_ifr(&ifr, name);
	ifr.ifr_data = (char *)&info;
	return ioctl(sock, SIOCETHTOOL, &ifr) == 0 && strcmp(info.driver, "bridge") == 0;
}

/*
 * Every isolated segment's bridge on the host (in this network namespace),
 * isolated again.  A segment's bridge without an IPv4 address is
 * isolated: only a NAT segment's gets one, its gateway, before it ever
 * forwards.  A bridge that a crash left without one is taken for isolated,
 * which is the safe side: its next start as a NAT segment turns its
 * forwarding back on.
 */
static int sp_net_isolate_all(int sock, struct sp_err *err)
{
	struct if_nameindex *ifs = if_nameindex();
	int rc = 0;

	if (!ifs) {
		sp_err_set(err, "cannot list the network interfaces: %s", strerror(errno));
		return -1;
	}
	for (struct if_nameindex *i = ifs; rc == 0 && i->if_index; i++) {
		struct ifreq ifr;
		if (!sp_net_bridge_name(i->if_name) || !sp_net_is_bridge(sock, i->if_name))
			continue;
		sp_ifr(&ifr, i->if_name);
		if (ioctl(sock, SIOCGIFADDR, &ifr) == 0 || errno != EADDRNOTAVAIL)
			continue;
		rc = sp_net_isolate(i->if_name, err);
		/* Gone since it was listed: nothing left to isolate. */
		if (rc < 0 && if_nametoindex(i->if_name) == 0)
			rc = 0;
	}
	if_freenameindex(ifs);
	return rc;
}

static int sp_net_bridge_delete(int sock, const char *bridge)
{
	struct sp_err ignored = {0};

	if (if_nametoindex(bridge) == 0)
		return 0;
	/* The kernel deletes only a bridge that is down. */
	sp_net_set_up(sock, bridge, false, &ignored);
	return ioctl(sock, SIOCBRDELBR, bridge);
}

/* The segment's bridge, made if missing, and what a NAT segment needs. */
static int sp_net_segment(int sock, const struct sp_plan_nic *n, struct sp_err *err)
{
	bool made = false;
	struct ifreq ifr;

	if (if_nametoindex(n->bridge) == 0) {
		/* The segment: a Linux bridge joins its instances' taps at
		 * layer 2, and nothing else (no physical interface is ever
		 * added), so the segment is isolated from every other. */
		if (ioctl(sock, SIOCBRADDBR, n->bridge) < 0 && errno != EEXIST) {
			sp_err_set(err, "segment %s: cannot create bridge %s: %s", n->resource,
				   n->bridge, strerror(errno));
			return -1;
		}
		made = true;
		/* A fixed MAC: a bridge otherwise takes its lowest port's,
		 * which changes as instances come and go, and the instances'
		 * ARP entries for the gateway would go stale. */
		sp_ifr(&ifr, n->bridge);
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		for (int i = 0; i < 6; i++)
			ifr.ifr_hwaddr.sa_data[i] = (char)strtoul(n->bridge_mac + 3 * i, NULL, 16);
		if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0) {
			sp_err_set(err, "segment %s: bridge %s: cannot set its MAC address: %s",
				   n->resource, n->bridge, strerror(errno));
			goto fail;
		}
		/* The host does not talk on a segment: no IPv6 on the bridge
		 * (no link-local address, no router solicitations, nothing
		 * received), and, for IPv4, strict reverse-path filtering:
		 * a packet from the segment whose source is not routed back
		 * through the bridge is dropped, which is every packet on an
		 * isolated segment (its bridge has no address, no route) and
		 * every spoofed one on a NAT segment.  ARP is answered only
		 * for the bridge's own address (8: for none at all when
		 * isolated). */
		if (sp_net_sysctl("ipv6", n->bridge, "disable_ipv6", "1", true, err) < 0 ||
		    sp_net_sysctl("ipv4", n->bridge, "rp_filter", "1", false, err) < 0 ||
		    sp_net_sysctl("ipv4", n->bridge, "arp_ignore", n->nat ? "1" : "8", false,
				  err) < 0 ||
		    sp_net_sysctl("ipv4", n->bridge, "send_redirects", "0", false, err) < 0)
			goto fail;
	}
	if (n->nat) {
		/* The gateway: the bridge's address is .1 of the subnet (the
		 * connected route to the segment comes with it). */
		char mask[INET_ADDRSTRLEN];
		struct in_addr m = {htonl(~(uint32_t)0 << (32 - n->prefix))};
		inet_ntop(AF_INET, &m, mask, sizeof(mask));
		if (sp_net_set_in_addr(sock, SIOCSIFADDR, n->bridge, n->gateway, err) < 0 ||
		    sp_net_set_in_addr(sock, SIOCSIFNETMASK, n->bridge, mask, err) < 0)
			goto fail;
		/* Routing between the segment and the host's other networks:
		 * on for this bridge and the host's uplinks, off again for
		 * the isolated segments (see sp_net_ip_forward).  IPv4 only:
		 * IPv6 stays off on the bridge, whatever a host-wide write
		 * (conf/all/disable_ipv6) did since it was made. */
		if (sp_net_ip_forward(err) < 0 || sp_net_isolate_all(sock, err) < 0 ||
		    sp_net_sysctl("ipv4", n->bridge, "forwarding", "1", false, err) < 0 ||
		    sp_net_sysctl("ipv6", n->bridge, "disable_ipv6", "1", true, err) < 0)
			goto fail;
		/* Replaced on every start: a table lost in a crash comes back. */
		if (sp_net_nft_nat(n, err) < 0) {
			char why[sizeof(err->msg)];
			snprintf(why, sizeof(why), "%s", err->msg);
			sp_err_set(err, "segment %s: NAT rules: %s", n->resource, why);
			goto fail;
		}
	} else if (sp_net_isolate_all(sock, err) < 0) {
		/* An isolated segment is never routed to or from: neither
		 * this one, made with the host's defaults (forwarding is on
		 * by default where the host routes), nor the others, which
		 * a host-wide switch may have turned on since. */
		goto fail;
	}
	if (sp_net_set_up(sock, n->bridge, true, err) < 0)
		goto fail;
	return 0;
fail:
	if (made)
		sp_net_bridge_delete(sock, n->bridge);
	return -1;
}

/* The interface's tap, attached to its bridge; returns its descriptor. */
static int sp_net_tap(int sock, const struct sp_plan_nic *n, struct sp_err *err)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	unsigned idx;

	if (fd < 0) {
		sp_err_set(err, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	/* The instance's end of the segment: a tap whose other end is the
	 * VMM's virtio-net device.  Not persistent (no TUNSETPERSIST): it
	 * disappears, and leaves the bridge, when the VMM ends. */
	sp_ifr(&ifr, n->tap);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		sp_err_set(err, "segment %s: cannot create tap %s: %s%s", n->resource, n->tap,
			   strerror(errno),
			   errno == EBUSY ? " (another VM of this instance runs on this host)" : "");
		close(fd);
		return -1;
	}
	/* The host does not talk through a port either. */
	if (sp_net_sysctl("ipv6", n->tap, "disable_ipv6", "1", true, err) < 0)
		goto fail;
	idx = if_nametoindex(n->tap);
	sp_ifr(&ifr, n->bridge);
	ifr.ifr_ifindex = (int)idx;
	if (idx == 0 || ioctl(sock, SIOCBRADDIF, &ifr) < 0) {
		sp_err_set(err, "segment %s: cannot add tap %s to bridge %s: %s", n->resource, n->tap,
			   n->bridge, strerror(errno));
		goto fail;
	}
	if (sp_net_set_up(sock, n->tap, true, err) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Ports of the bridge: 0 if it has none, -1 if it does not exist, and a
 * positive count if it cannot tell (then it is left alone). */
static int sp_net_ports(const char *bridge)
{
	char path[128];
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (if_nametoindex(bridge) == 0)
		return -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/brif", bridge);
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Under the lock: the segment of n, if no instance uses it any more. */
static void sp_net_release_one(int sock, const struct sp_plan_nic *n)
{
	struct sp_err ignored = {0};
	int ports = sp_net_ports(n->bridge);

	if (ports > 0)
		return;
	/* The rules first: they name the bridge, never the other way. */
	if (n->nat)
		sp_net_nft_delete(n->bridge, &ignored);
	if (ports == 0 && sp_net_bridge_delete(sock, n->bridge) < 0)
		fprintf(stderr, "spectrum: segment %s: cannot delete bridge %s: %s\n", n->resource,
			n->bridge, strerror(errno));
}

/* Is nics[i] the first of the plan on its segment? */
static bool sp_net_first(const struct sp_plan *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(p->nics[j].bridge, p->nics[i].bridge) == 0)
			return false;
	return true;
}

void sp_net_release(const struct sp_plan *p)
{
	char run_dir[4096];
	int lock, sock;

	if (!p->nnics)
		return;
	sp_net_run_dir(p, run_dir, sizeof(run_dir));
	lock = sp_net_lock(run_dir);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock >= 0) {
		for (size_t i = 0; i < p->nnics; i++)
			if (sp_net_first(p, i))
				sp_net_release_one(sock, &p->nics[i]);
		close(sock);
	}
	sp_net_unlock(lock);
}

int sp_net_open(const struct sp_plan *p, int *fds, struct sp_err *err)
{
	char run_dir[4096];
	int lock, sock;
	size_t i;

	if (!p->nnics)
		return 0;
	sp_net_run_dir(p, run_dir, sizeof(run_dir));
	lock = sp_net_lock(run_dir);
	if (lock < 0) {
		sp_err_set(err, "%s/net.lock: %s", run_dir, strerror(errno));
		return -1;
	}
	sock = sp_net_sock(err);
	if (sock < 0) {
		sp_net_unlock(lock);
		return -1;
	}
	for (i = 0; i < p->nnics; i++) {
		if (sp_net_segment(sock, &p->nics[i], err) < 0)
			break;
		fds[i] = sp_net_tap(sock, &p->nics[i], err);
		if (fds[i] < 0)
			break;
	}
	if (i < p->nnics) {
		/* Undo: the taps go with their descriptors, then any segment
		 * left without a port. */
		for (size_t j = 0; j < i; j++)
			close(fds[j]);
		for (size_t j = 0; j <= i && j < p->nnics; j++)
			if (sp_net_first(p, j))
				sp_net_release_one(sock, &p->nics[j]);
	}
	close(sock);
	sp_net_unlock(lock);
	return i < p->nnics ? -1 : 0;
}

void sp_net_sweep(const char *run_dir)
{
	static const char prefix[] = "table inet " SP_NFT_TABLE_PREFIX;
	char *const args[] = {"nft", "list", "tables", NULL};
	static char out[65536];
	struct sp_err nft_err;
	int lock, sock;

	if (sp_net_nft_run(args, NULL, 1, out, sizeof(out), &nft_err) != 0)
		return;
	lock = sp_net_lock(run_dir);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (char *line = out, *next; sock >= 0 && line && *line; line = next) {
		struct sp_err ignored = {0};
		char bridge[IFNAMSIZ];
		const char *name;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		name = line + strlen(prefix);
		if (!sp_net_bridge_name(name))
			continue;
		snprintf(bridge, sizeof(bridge), "%s", name);
		if (sp_net_ports(bridge) > 0)
			continue;
		sp_net_nft_delete(bridge, &ignored);
		if (sp_net_ports(bridge) == 0)
			sp_net_bridge_delete(sock, bridge);
	}
	if (sock >= 0)
		close(sock);
	sp_net_unlock(lock);
}
