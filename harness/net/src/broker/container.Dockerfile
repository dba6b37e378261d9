# ovms-hil-mosquitto:local — mosquitto from the host, in an image built FROM scratch.
# No registry is needed (and none may be reachable): do not add a BuildKit syntax directive, BuildKit
# would pull a frontend image for it. stage.sh fills rootfs/ with the binary, its ldd
# libraries and minimal /etc/passwd and /etc/group entries.
FROM scratch
COPY rootfs/ /
EXPOSE 1883 8883 1884
ENTRYPOINT ["/usr/sbin/mosquitto"]
CMD ["-c", "/mosquitto/config/mosquitto.conf"]
