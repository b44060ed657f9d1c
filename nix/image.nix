# SPDX-License-Identifier: GPL-2.0-or-later
#
# imageDerivation: an application's root image as a derivation.
#
# With nixpkgs an application would be a package and its image the
# package's closure in an erofs.  Without it, the derivation takes its
# tools as arguments: the builder is /bin/sh, which runs spectrum-image(1)
# on a directory tree copied into the store.  spectrum-image fixes time
# stamps, owners and the file system UUID (derived from the tree's
# content), so the image is byte for byte the one
# `spectrum-image build -o FILE -d DIR` makes from the same tree.
#
# The store keeps only the execute bit of a file: files become mode 444 or
# 555 and directories 555 in the copy, and so in the image.
{
  # The image's name: the output is NAME.erofs.
  name
, # The directory tree that becomes the image (a path; copied into the store).
  tree
, # spectrum-image itself: an absolute path as a string, used where it is,
  # or a Nix path, copied into the store.
  spectrumImage
, # Where the builder finds mkfs.erofs (spectrum-image runs it) and mv.
  toolPath ? "/usr/sbin:/usr/bin:/sbin:/bin"
, # The guest architecture recorded in the manifest: x86_64 or ppc64le.
  arch ? "x86_64"
, system ? builtins.currentSystem
}:
builtins.derivation {
  name = "${name}.erofs";
  inherit system arch spectrumImage;
  # The tree under a fixed name, so that its store path depends on its
  # content and not on the name of the directory it came from.
  tree = builtins.path { path = tree; name = "${name}-tree"; };
  builder = "/bin/sh";
  # The image is `out`; spectrum-image's manifest, which records the
  # tree's store path, is a second output.  spectrum-image writes both
  # next to each other, so it writes them in the build directory.
  outputs = [ "out" "manifest" ];
  args = [
    "-eu"
    "-c"
    ''
      "$spectrumImage" build -a "$arch" -o "$TMPDIR/image.erofs" -d "$tree"
      mv "$TMPDIR/image.erofs" "$out"
      mv "$TMPDIR/image.erofs.manifest.json" "$manifest"
    ''
  ];
  PATH = toolPath;
  # The builder runs tools of the host, outside the store: the sandbox,
  # which holds the store only, would hide them.  Nix builds a derivation
  # that asks for this outside the sandbox where `sandbox = relaxed` (what
  # scripts/deps.sh sets) or `sandbox = false`, and refuses it where
  # `sandbox = true`.
  __noChroot = true;
}
