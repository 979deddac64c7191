=== cloud-config:bootcmd
#!/bin/sh
echo "booting $INSTANCE_ID"
'mkdir' '-p' '/run/it'\''s here'
=== cloud-config:modules
#!/bin/sh
# cloud-config modules, in cloud-init's order

# write_files: /etc/app/app.conf
mkdir -p -- '/etc/app' &&
	(umask 077 && printf '%s' 'name = '\''app'\''
cmd = $(rm -rf /)
' >'/etc/app/app.conf') &&
	chown -- 'app:app' '/etc/app/app.conf' &&
	chmod 640 '/etc/app/app.conf' ||
	echo 'write_files: failed to write /etc/app/app.conf' >&2

# write_files: /var/lib/relative
mkdir -p -- '/var/lib' &&
	(umask 077 && printf '%s' 'hello
' >'/var/lib/relative') &&
	chown -- 'root:root' '/var/lib/relative' &&
	chmod 644 '/var/lib/relative' ||
	echo 'write_files: failed to write /var/lib/relative' >&2

# write_files: "/etc/odd\nname"
mkdir -p -- '/etc' &&
	(umask 077 && printf '%s' 'odd' >'/etc/odd
name') &&
	chown -- 'root:root' '/etc/odd
name' &&
	chmod 644 '/etc/odd
name' ||
	echo 'write_files: failed to write /etc/odd
name' >&2

# users_groups: group admins
getent group 'admins' >/dev/null || groupadd 'admins'
if id -u 'ec2-user' >/dev/null 2>&1; then usermod -a -G 'admins' 'ec2-user'; else echo 'Unable to add group member '\''ec2-user'\'' to group '\''admins'\''; user does not exist.' >&2; fi

# users_groups: user alice
if ! id -u 'alice' >/dev/null 2>&1; then
	getent group 'admins' >/dev/null || groupadd 'admins'
	getent group 'docker' >/dev/null || groupadd 'docker'
	useradd 'alice' --comment 'Alice '\''A'\'' Smith' --groups 'admins,docker' --shell '/bin/zsh' -m
fi
if command -v passwd >/dev/null 2>&1; then passwd -l 'alice'; else usermod --lock 'alice'; fi
mkdir -p /etc/sudoers.d && chmod 750 /etc/sudoers.d
if ! grep -Eqs '^[#@]includedir[[:space:]]+/etc/sudoers\.d/?[[:space:]]*$' /etc/sudoers; then
	printf '\n#includedir /etc/sudoers.d\n' >>/etc/sudoers && chmod 440 /etc/sudoers
fi
printf '%s\n' '' '# User rules for alice' 'alice ALL=(ALL) NOPASSWD:ALL' >>/etc/sudoers.d/90-cloud-init-users && chmod 440 /etc/sudoers.d/90-cloud-init-users
home=$(getent passwd 'alice' | cut -d: -f6)
if [ -n "$home" ] && mkdir -p "$home/.ssh" && chmod 700 "$home/.ssh"; then
	for key in 'ssh-ed25519 AAAAC3 alice@laptop'; do
		grep -qsxF -- "$key" "$home/.ssh/authorized_keys" || printf '%s\n' "$key" >>"$home/.ssh/authorized_keys"
	done
	chmod 600 "$home/.ssh/authorized_keys"
	chown -R "$(id -u 'alice'):$(id -g 'alice')" "$home/.ssh"
else
	echo 'users_groups: cannot write ssh_authorized_keys of alice' >&2
fi

# users_groups: user svc
if ! id -u 'svc' >/dev/null 2>&1; then
	useradd 'svc' --home '/srv/svc' --system --uid '990' -M
fi
if command -v passwd >/dev/null 2>&1; then passwd -l 'svc'; else usermod --lock 'svc'; fi

# users_groups: user ubuntu
if ! id -u 'ubuntu' >/dev/null 2>&1; then
	getent group 'adm' >/dev/null || groupadd 'adm'
	getent group 'sudo' >/dev/null || groupadd 'sudo'
	useradd 'ubuntu' --groups 'adm,sudo' --shell '/bin/bash' -m
fi
if command -v passwd >/dev/null 2>&1; then passwd -l 'ubuntu'; else usermod --lock 'ubuntu'; fi
printf '%s\n' '' '# User rules for ubuntu' 'ubuntu ALL=(ALL) NOPASSWD:ALL' >>/etc/sudoers.d/90-cloud-init-users && chmod 440 /etc/sudoers.d/90-cloud-init-users

# package_update_upgrade_install
pkg() { DEBIAN_FRONTEND=noninteractive apt-get --option=Dpkg::Options::=--force-confold --option=DPkg::Lock::Timeout=300 --assume-yes --quiet "$@"; }
pkg update
pkg dist-upgrade
pkg install 'nginx' 'curl=7.88.1-10' 'x'\''; touch /pwned; '\'''

# write_files_deferred: /etc/late.conf
mkdir -p -- '/etc' &&
	(umask 077 && printf '%s' 'late' >>'/etc/late.conf') &&
	chown -- 'root:root' '/etc/late.conf' &&
	chmod 644 '/etc/late.conf' ||
	echo 'write_files_deferred: failed to write /etc/late.conf' >&2
=== runcmd
#!/bin/sh
cd /tmp
'sh' '-c' 'echo '\''quoted'\'' && echo $HOME'
