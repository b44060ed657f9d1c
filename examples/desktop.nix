# desktop.json, imported into Nix and extended: an extra instance, a
# binding narrowed to read-only, a memory override.  Evaluate it with
#
#   spectrum check examples/desktop.nix
#   spectrum plan examples/desktop.nix banking
#
# See spectrum-nix(7).
let
  spectrum = import ../nix;
in
spectrum.system {
  # Everything the data file says, as if written with spectrum.application,
  # spectrum.block, spectrum.instance and the rest.
  imports = [ (spectrum.fromData ./desktop.json) ];

  # An extra instance of the same browser application, for banking: it
  # reaches the network but not the downloads directory.
  instances.banking = spectrum.instance {
    application = "browser";
    bindings.web = { };
    memory = "1G";
  };

  # The data file lets the browser write to the downloads directory; here
  # it may only read what is there.  Its path is kept from the data file.
  instances.browser.bindings.downloads.mode = "ro";

  # The notes instance gets more memory than its application asks for.
  instances.notes.memory = "512M";
}
