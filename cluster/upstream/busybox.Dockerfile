# busybox as the e2e specs use it (sh, printenv, ls, cat, wget, nc ...): Debian's static busybox
# 1.35 with every applet linked ahead of coreutils on PATH, except `sh`, which is bash: busybox
# 1.35's ash drops environment variables whose names are not shell identifiers, while upstream's
# image (busybox 1.37) passes them on, as "Variable Expansion allow almost all printable ASCII
# characters as environment variable names" requires.
FROM kubegate/debian:bookworm
RUN set -eux; apt-get update; apt-get install -y --no-install-recommends busybox-static; \
    rm -rf /var/lib/apt/lists/*; busybox --install -s /usr/local/bin; ln -sf /bin/bash /usr/local/bin/sh
CMD ["sh"]
