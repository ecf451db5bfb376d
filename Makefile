# Builds and installs the C library: a thin layer over cargo.
#
#   make                      cargo build --release -p kcp-ffi
#   make kcpcat               build/kcpcat, the netcat-like CLI (examples-c/kcpcat.c)
#   make install PREFIX=/usr/local [DESTDIR=...]
#   make uninstall PREFIX=/usr/local [DESTDIR=...]
#
# Installs libkcp.so.X.Y.Z (SONAME libkcp.so.X) with its links, libkcp.a,
# include/kcp.h, lib/pkgconfig/kcp.pc and lib/cmake/kcp (find_package(kcp),
# targets kcp::kcp and kcp::kcp_static).

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR := $(PREFIX)/lib
INCLUDEDIR := $(PREFIX)/include
CARGO ?= cargo

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
# What a program linking libkcp.a statically also needs (Rust's std).
STATIC_LIBS := -lpthread -ldl -lm -lgcc_s -lc

BUILT := target/release/libkcp.so target/release/libkcp.a
INSTALLED := \
	$(LIBDIR)/libkcp.so.$(VERSION) $(LIBDIR)/libkcp.so.$(MAJOR) $(LIBDIR)/libkcp.so \
	$(LIBDIR)/libkcp.a $(INCLUDEDIR)/kcp.h $(LIBDIR)/pkgconfig/kcp.pc \
	$(LIBDIR)/cmake/kcp/kcpConfig.cmake $(LIBDIR)/cmake/kcp/kcpConfigVersion.cmake

.PHONY: all install uninstall kcpcat FORCE
all: $(BUILT)

CC ?= cc
kcpcat: all
	mkdir -p build
	$(CC) -std=c11 -O2 -Wall -Wextra -Iinclude examples-c/kcpcat.c target/release/libkcp.a \
		-lpthread -ldl -lm -o build/kcpcat

$(BUILT): FORCE
	$(CARGO) build --release -p kcp-ffi
	@# The SONAME's name, so programs linked in the tree run from it too.
	@ln -sf libkcp.so target/release/libkcp.so.$(MAJOR)

FORCE:

subst = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	-e 's|@MAJOR@|$(MAJOR)|g' -e 's|@STATIC_LIBS@|$(STATIC_LIBS)|g'

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(LIBDIR)/cmake/kcp $(DESTDIR)$(INCLUDEDIR)
	install -m 755 target/release/libkcp.so $(DESTDIR)$(LIBDIR)/libkcp.so.$(VERSION)
	ln -sf libkcp.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libkcp.so.$(MAJOR)
	ln -sf libkcp.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libkcp.so
	install -m 644 target/release/libkcp.a $(DESTDIR)$(LIBDIR)/libkcp.a
	install -m 644 include/kcp.h $(DESTDIR)$(INCLUDEDIR)/kcp.h
	$(subst) packaging/kcp.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/kcp.pc
	$(subst) packaging/kcpConfig.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/kcp/kcpConfig.cmake
	$(subst) packaging/kcpConfigVersion.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/kcp/kcpConfigVersion.cmake

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(LIBDIR)/cmake/kcp 2>/dev/null
