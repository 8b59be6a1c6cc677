# agnhost as upstream's test/images/agnhost/Dockerfile builds it, on Debian instead of Alpine:
# the same tools (dig/nslookup, curl, netcat-openbsd, iproute2, iperf, bash), the porter
# certificates, the user and group the specs expect. Not included: the CoreDNS 1.6.2 release
# tarball upstream adds (a download site, unreachable here; only DNS specs outside kubegate's
# selection use it).
FROM kubegate/debian:bookworm
RUN set -eux; apt-get update; \
    apt-get install -y --no-install-recommends bind9-dnsutils curl netcat-openbsd iproute2 iperf bash \
      ca-certificates procps wget; \
    rm -rf /var/lib/apt/lists/*; \
    ln -s /usr/bin/iperf /usr/local/bin/iperf; mkdir /uploads; \
    useradd -u 1000 -M user-defined-in-image; groupadd -g 50000 group-defined-in-image; \
    usermod -aG group-defined-in-image user-defined-in-image
EXPOSE 80 8080 8081 9376 5000
COPY porter/localhost.crt porter/localhost.key /
COPY agnhost /agnhost
RUN ln -s agnhost /agnhost-2
ENTRYPOINT ["/agnhost"]
CMD ["pause"]
