# DejaVu live: HTTP parsing with the Node.js http-parser from
# Debian; libvirt for the libvirt actuator (tests use test:///default);
# nginx and wrk for `virtlab bench proxy`.
DEB_DEPS += libhttp-parser-dev libvirt-dev nginx-light wrk
LDLIBS += -lhttp_parser -lvirt
