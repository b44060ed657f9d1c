# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Spectrum Nix library: a Spectrum system declared in Nix, evaluated
# with nothing but Nix itself (no nixpkgs).  See spectrum-nix(7).
#
#   let spectrum = import ./nix; in
#   spectrum.system {
#     imports = [ ./desktop.json ];
#     applications.mail = spectrum.application {
#       image = "mail";
#       command = [ "/usr/bin/mutt" ];
#     };
#     instances.mail-reader.bindings.mail-store.mode = "ro";
#   }
#
# `system` returns the model of spectrum.json(5): builtins.toJSON of it is
# a data file, and `spectrum check FILE.nix` evaluates FILE.nix to exactly
# that.
let
  lib = import ./lib.nix;
  check = import ./check.nix { inherit lib; };
  inherit (builtins) concatMap functionArgs genList intersectAttrs isAttrs
    isFunction isList isString length removeAttrs typeOf;

  # Constructors record what kind of object they made, so that an object
  # put in the wrong section is named as such; the tag never reaches the
  # model.  A value that is not an attribute set is passed on untouched
  # and reported, with its place, by `system`.
  tag = kind: args: if isAttrs args then args // { _spectrum = kind; } else args;
  typed = type: args: if isAttrs args then tag "resource" (args // { inherit type; }) else args;

  resourceConstructors = {
    block = typed "block";
    directory = typed "directory";
    net = typed "net";
    usb = typed "usb";
    pci = typed "pci";
  };

  hasSuffix = suffix: s:
    let n = builtins.stringLength s; m = builtins.stringLength suffix; in
    n >= m && builtins.substring (n - m) m s == suffix;

  # --- modules ------------------------------------------------------------
  #
  # A module is an attribute set with the keys of a data file and
  # `imports`, a list of further modules; or a path to a .nix file that
  # evaluates to a module, or to a .json data file (read with fromData);
  # or a function taking { config, spectrum } and returning a module, where
  # `config` is the merged configuration of all modules.  Imports come
  # before the module that imports them, so that the importing module
  # overrides what it imports.

  collect = args: place: m:
    let
      loaded =
        if typeOf m == "path" || (isString m && builtins.substring 0 1 m == "/") then
          (if hasSuffix ".json" (toString m) then spectrum.fromData m else import m)
        else m;
      value =
        if isFunction loaded then
          let want = functionArgs loaded; in
          loaded (if want == { } then args else intersectAttrs want args)
        else loaded;
      imports = value.imports or [ ];
    in
    if !isAttrs value || lib.isDerivation value then
      { problems = lib.problem place "expected a module (an attribute set, a path or a function), found ${lib.kind value}"; modules = [ ]; }
    else if value ? _spectrum then
      # spectrum.application { ... } where a module belongs.
      { problems = lib.problem place "expected a module, found ${lib.withArticle value._spectrum}; put it under \"${value._spectrum}s\""; modules = [ ]; }
    else if !isList imports then
      { problems = lib.problem (place ++ [ "imports" ]) "expected a list of modules, found ${lib.kind imports}"; modules = [ ]; }
    else
      let
        inner = genList (i: collect args (place ++ [ "imports" i ]) (builtins.elemAt imports i)) (length imports);
      in
      {
        problems = concatMap (r: r.problems) inner;
        modules = concatMap (r: r.modules) inner ++ [ (removeAttrs value [ "imports" ]) ];
      };

  spectrum = {
    # --- declarations -----------------------------------------------------

    # An application: { image; command | commands; env; memory; vcpus; arch; }
    # `image` is an image name, a path, or a derivation (imageDerivation).
    application = tag "application";

    # Resources, one function per type; `type` is set for you.
    inherit (resourceConstructors) block directory net usb pci;

    # A resource whose type is given in it, { type = "block"; ... }: how
    # fromData reads the resources of a data file.
    resource = args:
      if isAttrs args && isString (args.type or null) && resourceConstructors ? ${args.type}
      then resourceConstructors.${args.type} args
      else tag "resource" args;

    # An instance: { application; bindings; memory; vcpus; hypervisor;
    # shareRoot; autostart; restart; disposable; display; }, `application` a
    # name (or `applications`, a list of names of one image).
    instance = tag "instance";

    # Bindings of block and directory resources; a device or network is
    # bound with { }.
    ro = path: { inherit path; mode = "ro"; };
    rw = path: { inherit path; mode = "rw"; };

    # --- assembling ---------------------------------------------------------

    # A module, a list of modules, or a path to one, merged in order and
    # checked; the result is the data file's model.  Every problem is
    # thrown at once, one line each: "spectrum: PLACE: MESSAGE".
    system = top:
      let
        root = if isList top then { imports = top; } else top;
        args = { inherit config spectrum; };
        collected = collect args [ ] root;
        # Before nulls are dropped: what a function module sees as `config`.
        config = builtins.foldl' lib.merge { } collected.modules;
      in
      if collected.problems != [ ] then lib.report collected.problems
      else check.model (lib.dropNulls config);

    # The recursive merge `system` uses: attribute sets merge, anything
    # else of the second argument wins, null removes the attribute.
    inherit (lib) merge;

    # Wrap a value so that it replaces what it is merged over instead of
    # merging with it: instances.x = spectrum.replace (spectrum.instance {...}).
    inherit (lib) replace;

    # Reads a data file into the functions above: a module that `system`
    # takes, or that imports list, and that later modules extend.
    fromData = import ./data.nix { inherit spectrum; };

    # A root image as a derivation, built by spectrum-image(1).
    imageDerivation = import ./image.nix;

    # The key lists of the model, for tests and tools.
    inherit (check) keys;
  };
in
spectrum
