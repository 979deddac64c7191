#!/bin/sh
# cloudbox: what a package's maintainer script may do to its service while
# apt/yum installs, upgrades or removes it. invoke-rc.d asks this script
# (arguments: [--quiet] <service> <action list> [runlevel]); /usr/bin/systemctl
# (docker-systemctl-replacement) never does, so `systemctl start` always works.
#
# Services are started and stopped through systemctl here, never by their
# init.d script, so `systemctl status|stop` know about them; the answer is
# always 101 ("forbidden") so invoke-rc.d does not run the init.d script too.
# (invoke-rc.d cannot tell the runlevel without systemd, so it wraps every
# action in parentheses, "(start)": whether a service is enabled is asked of
# systemctl instead.)
#
#  - Amazon Linux and CentOS (os-release ID or ID_LIKE amzn, centos, rhel or
#    fedora): installing a package never starts its service, as with RPMs
#    (`yum install httpd` leaves httpd stopped until `systemctl start httpd`).
#  - Debian and Ubuntu: a package's service starts when it is installed, if
#    it is enabled (their preset, etc/systemd/system-preset, enables all).
#  - Everywhere: an upgrade restarts a running service; removal stops it.

while [ $# -gt 0 ]; do
    case $1 in
        --list) exit 0 ;;
        --quiet) shift ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || exit 101
service=$1
# The first action of the list is the one wanted; the rest are fallbacks.
set -f
# shellcheck disable=SC2086 # split the list into words
set -- $2
action=${1:-}
action=${action#(}
action=${action%)}

rpm=0
if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    case " $(. /etc/os-release && echo "${ID:-} ${ID_LIKE:-}") " in
        *" amzn "*|*" centos "*|*" rhel "*|*" fedora "*) rpm=1 ;;
    esac
fi

# Output goes nowhere: a daemon must not keep apt's (or yum's) pipe open.
case $action in
    start)
        if [ "$rpm" = 0 ] && systemctl -q is-enabled "$service" >/dev/null 2>&1; then
            systemctl start "$service" >/dev/null 2>&1 </dev/null || true
        fi ;;
    restart|try-restart|reload|force-reload)
        systemctl try-restart "$service" >/dev/null 2>&1 </dev/null || true ;;
    stop)
        systemctl stop "$service" >/dev/null 2>&1 </dev/null || true ;;
esac
exit 101
