// Package cloudinit turns EC2 user data into the shell scripts cloud-init
// would run on an Amazon Linux or Ubuntu AMI's first boot, so that an
// instance's init can run them in order, as root, with output on the
// console. It is pure: it reads its input and nothing else, runs nothing
// and fetches nothing.
//
// Render follows cloud-init's own code where its documentation is vague:
// how user data is typed, how parts are named (part-001...), how
// cloud-config parts merge, and in what order the stages run. The scripts
// come in that order (plan in render.go says why), and like cloud-init's
// they should all run even when one fails:
//
//  1. boothooks, in part order;
//  2. bootcmd;
//  3. write_files, users and groups, package update, upgrade and install,
//     then write_files with defer: true;
//  4. x-shellscript-per-once, -per-boot and -per-instance parts;
//  5. x-shellscript parts and runcmd together, sorted by name as run-parts
//     runs cloud-init's scripts directory: part-002 before runcmd, but a
//     make-mime part named script.sh after it.
//
// Supported:
//   - empty user data: no scripts;
//   - gzip-compressed user data and gzip MIME parts, at most 16 MiB
//     decompressed in all (ErrTooLarge past that);
//   - "#!" scripts, run as they are (CRLF line ends made LF, as cloud-init
//     does);
//   - MIME multipart (make-mime, launch templates, hand-written), nested,
//     base64 and quoted-printable transfer encodings, parts typed by their
//     Content-Type or, for text/plain and text/x-shellscript, by their
//     first line, as cloud-init does;
//   - text/x-shellscript, text/cloud-boothook ("#cloud-boothook"),
//     text/x-shellscript-per-once, -per-instance and -per-boot parts;
//   - text/cloud-config-archive ("#cloud-config-archive"): its entries
//     become parts;
//   - text/cloud-config ("#cloud-config"), several parts merged as
//     cloud-init does: by default a later part's top-level key replaces an
//     earlier one's (runcmd in two parts keeps the second), and a part's
//     merge_how/merge_type or Merge-Type header can ask for more, e.g.
//     "list(append)+dict(no_replace,recurse_list)+str()" to append lists;
//   - cloud-config modules bootcmd, write_files (path, content, encoding
//     b64/base64/gzip/gz+base64, permissions, owner, append, defer),
//     users and groups (default, name, gecos, homedir, primary_group,
//     groups, shell, uid, system, no_create_home, no_user_group,
//     no_log_init, expiredate, inactive, selinux_user, create_groups,
//     passwd, hashed_passwd, plain_text_passwd, lock_passwd, sudo into
//     /etc/sudoers.d/90-cloud-init-users, ssh_authorized_keys), the old
//     user key, package_update, package_upgrade, packages (names,
//     [name, version], {apt: [...]}) with their apt_ aliases, and runcmd.
//
// Not supported, reported in Plan.Warnings and otherwise ignored:
//   - #include and text/x-include(-once)-url: URLs are not fetched;
//   - text/part-handler, text/jinja2, text/cloud-config-jsonp,
//     text/upstart-job, and any other content type;
//   - every other cloud-config key (hostname, timezone, ntp, apt, yum_repos,
//     snap, ssh_import_id, power_state...), write_files' source URLs,
//     package_reboot_if_required, and user keys snapuser, doas,
//     ssh_import_id, ssh_redirect_user;
//   - YAML that does not parse, or is not a mapping: the part is left out,
//     as cloud-init leaves it out and boots on.
//
// Differences from cloud-init that remain:
//   - everything runs once, on first boot: boothooks, bootcmd and per-boot
//     scripts, which cloud-init runs on every boot, do not run again;
//   - Launch-Index headers and keys are ignored: every part is for every
//     instance of a launch;
//   - the image's default user is created only when users lists default
//     (or the old user key is set); cloud-init also creates it from the
//     image's cloud.cfg when user data has no users key, which is left to
//     the image;
//   - a write_files entry that fails does not stop the next ones;
//   - unknown apt packages are not filtered out before apt-get install.
//
// Every value from user data that is not itself shell code (paths, file
// content, owners, user, group and package names, keys, sudo rules, the
// words of list-form commands) is single-quoted in the scripts; string
// commands in bootcmd and runcmd are shell code and are written as they
// are, as cloud-init writes them.
package cloudinit
