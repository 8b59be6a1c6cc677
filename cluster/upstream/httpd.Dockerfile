# httpd as the e2e specs use it: Apache httpd 2.4 (Debian's apache2) in the foreground on port 80.
FROM kubegate/debian:bookworm
RUN set -eux; apt-get update; apt-get install -y --no-install-recommends apache2; \
    rm -rf /var/lib/apt/lists/*; ln -sf /dev/stdout /var/log/apache2/access.log; \
    ln -sf /dev/stderr /var/log/apache2/error.log; \
    printf '#!/bin/sh\nrm -f /var/run/apache2/apache2.pid\nexec apache2ctl -D FOREGROUND "$@"\n' >/usr/local/bin/httpd-foreground; \
    chmod +x /usr/local/bin/httpd-foreground
EXPOSE 80
CMD ["httpd-foreground"]
