# SPDX-License-Identifier: GPL-2.0-or-later
#
# The model of spectrum.json(5), for Nix: which keys each object has and
# what type each value is, which names refer to what, and the conversion
# of a merged, checked configuration into the data file's JSON model.
#
# The checks here are those a Nix user needs while writing Nix: keys,
# types, names, enumerations and references.  Value rules that only the
# whole configuration can settle (ranges, normalized paths, limits,
# sharing) are left to `spectrum check`, which reports them with the same
# attribute paths.  Nothing rejected here is accepted there, so the two
# never disagree.
#
# Keep the key lists in step with lib/config_sections.c; tests/nix.sh
# compares them with schema/spectrum.schema.json.
{ lib }:
let
  inherit (builtins)
    attrNames concatLists concatMap elem filter genList isAttrs isBool isInt
    isFloat isList isString length mapAttrs match removeAttrs
    replaceStrings stringLength substring typeOf;
  inherit (lib) problem kind suggest isDerivation;

  # Keys of every object, as lib/config_sections.c lists them.
  keys = {
    top = [ "version" "applications" "resources" "instances" ];
    application = [ "image" "command" "commands" "env" "memory" "vcpus" "arch" ];
    resource = {
      block = [ "type" "size" "fs" "path" ];
      directory = [ "type" "path" ];
      net = [ "type" "nat" ];
      usb = [ "type" "vendor" "product" "bus" "port" ];
      pci = [ "type" "address" ];
    };
    mount = [ "path" "mode" ];
    instance = [ "application" "applications" "bindings" "memory" "vcpus" "hypervisor" "shareRoot" "autostart" "restart" "disposable" "display" ];
    display = [ "label" "fullscreen" "clipboard" "compression" ];
    label = [ "color" ];
  };

  resourceTypes = [ "block" "directory" "net" "usb" "pci" ];
  archs = [ "x86_64" "ppc64le" "aarch64" ];
  hypervisors = [ "qemu" "crosvm" "cloud-hypervisor" ];
  restarts = [ "no" "on-failure" ];
  compressions = [ "lz4" "zstd" "none" ];

  nameRule = "use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit";
  validName = n: stringLength n <= 63 && match "[a-z0-9]([a-z0-9-]*[a-z0-9])?" n != null;

  # A user's string inside a message: short, and on one line.
  show = s:
    let short = if stringLength s > 64 then substring 0 64 s + "..." else s; in
    "\"${replaceStrings [ "\n" "\r" "\t" "\"" ] [ "?" "?" "?" "\\\"" ] short}\"";

  imap = f: l: genList (i: f i (builtins.elemAt l i)) (length l);
  concatMapAttrs = f: s: concatMap (n: f n s.${n}) (attrNames s);

  # --- checks: place -> value -> list of problems -------------------------

  expect = ok: like: place: v:
    if ok v then [ ] else problem place "expected ${like}, found ${kind v}";

  string = expect isString "a string";
  bool = expect isBool "true or false";
  int = expect isInt "an integer";

  # A host path: a string, a Nix path (used where it is, not copied into
  # the store) or a derivation (its output path, built or not).
  hostPath = expect (v: isString v || typeOf v == "path" || (isAttrs v && v ? outPath))
    "a string, a path or a derivation";

  stringList = place: v:
    if !isList v then problem place "expected a list of strings, found ${kind v}"
    else concatLists (imap (i: string (place ++ [ i ])) v);

  size = what: example: place: v:
    if isInt v || isFloat v then
      problem place "${what} needs a unit; write it as a string like \"${example}\""
    else if !isString v then problem place "expected a size string, found ${kind v}"
    else if match "[0-9]+[KMGT](iB)?" v == null then
      problem place "${show v} is not a size; write a number and a unit (K, M, G, T), like \"512M\" or \"2G\""
    else [ ];

  # One of a few strings; `unknown` says what was wrong.
  oneOf = choices: unknown: place: v:
    if !isString v then problem place "expected a string, found ${kind v}"
    else if elem v choices then [ ]
    else problem place (unknown v);

  # Unknown keys of an object, with a suggestion as spectrum check makes it.
  # The tag `_spectrum` of the constructors is not a key of the model.
  unknownKeys = allowed: place: set:
    concatMap
      (k: problem (place ++ [ k ]) "unknown key; ${suggest k allowed "allowed keys here are"}")
      (filter (k: k != "_spectrum" && !(elem k allowed)) (attrNames set));

  # Checks the optional fields of `set` that `fields` describes.
  fields = fs: place: set:
    concatMapAttrs (k: check: if set ? ${k} then check (place ++ [ k ]) set.${k} else [ ]) fs;

  missing = place: key: hint: problem place "missing key \"${key}\"; ${hint}";

  # A section: an attribute set of named objects of one kind.
  section = what: kindName: checkOne: place: v:
    if !isAttrs v || isDerivation v then problem place "expected an attribute set of names, found ${kind v}"
    else concatMapAttrs
      (name: obj:
        let here = place ++ [ name ]; in
        (if validName name then [ ] else problem here "invalid ${what} name; ${nameRule}")
        ++ (if !isAttrs obj || isDerivation obj then problem here "expected an attribute set, found ${kind obj}"
            else if (obj._spectrum or kindName) != kindName then
              problem here "this is ${lib.withArticle obj._spectrum} (spectrum.${constructorOf obj}); declare it under \"${obj._spectrum}s\""
            else checkOne name here obj))
      v;

  # The function that made an object: spectrum.block, spectrum.instance.
  constructorOf = obj: if obj._spectrum == "resource" then obj.type or "resource" else obj._spectrum;

  # --- applications -------------------------------------------------------

  application = _: place: app:
    unknownKeys keys.application place app
    ++ (if app ? image then [ ] else missing place "image" "give the root image's name or path")
    ++ (if app ? command && app ? commands then
          problem place "both \"command\" and \"commands\" are given; keep \"command\" for one program or \"commands\" for several"
        else if !(app ? command || app ? commands) then
          problem place "missing key \"command\"; give the program to run, like [\"/usr/bin/app\"]"
        else [ ])
    ++ fields {
      image = hostPath;
      command = stringList;
      commands = place: v:
        if !isList v then problem place "expected a list of commands, found ${kind v}"
        else concatLists (imap (i: stringList (place ++ [ i ])) v);
      env = place: v:
        if !isAttrs v || isDerivation v then
          problem place "expected an attribute set of strings like { LANG = \"C.UTF-8\"; }, found ${kind v}"
        else concatMapAttrs (n: string (place ++ [ n ])) v;
      memory = size "memory" "512M";
      vcpus = int;
      arch = oneOf archs (v: "unknown architecture ${show v}; ${suggest v archs "use one of"}");
    } place app;

  # --- resources ----------------------------------------------------------

  resourceFields = {
    block = {
      size = size "size" "1G";
      fs = oneOf [ "ext4" ] (v: "unsupported file system ${show v}; use \"ext4\"");
      path = hostPath;
    };
    directory.path = hostPath;
    net.nat = bool;
    usb = { vendor = string; product = string; bus = int; port = string; };
    pci.address = string;
  };

  resource = _: place: res:
    let type = res.type or null; in
    if !(res ? type) then missing place "type" "give one of ${builtins.concatStringsSep ", " resourceTypes}"
    else if !isString type then problem (place ++ [ "type" ]) "expected a string, found ${kind type}"
    else if !(elem type resourceTypes) then
      problem (place ++ [ "type" ]) "unknown resource type ${show type}; ${suggest type resourceTypes "use one of"}"
    else
      unknownKeys keys.resource.${type} place res
      ++ fields resourceFields.${type} place res
      ++ (if type == "block" && res ? size && res ? path then
            problem place "both \"size\" and \"path\" are given; an existing image (\"path\") is used as it is, so remove \"size\""
          else if type == "block" && !(res ? size || res ? path) then
            problem place "missing key \"size\"; give the volume's size, like \"1G\", or the \"path\" of an existing image"
          else if type == "directory" && !(res ? path) then
            missing place "path" "give the host directory to share, like \"/srv/shared\""
          else if type == "pci" && !(res ? address) then
            missing place "address" "give the device's host address as lspci -D shows it, like \"0000:01:00.0\""
          else [ ]);

  # --- instances ----------------------------------------------------------

  reference = what: sectionName: names: place: v:
    if !isString v then problem place "expected a string, found ${kind v}"
    else if elem v names then [ ]
    else
      let near = lib.closest v names; in
      problem place ("no ${what} named ${show v}; "
        + (if near != null then "did you mean \"${near}\"?" else "define it under \"${sectionName}\""));

  binding = resources: place: name: b:
    let
      res = resources.${name};
      type = if isAttrs res then res.type or null else null;
      mounted = type == "block" || type == "directory";
    in
    if !(resources ? ${name}) then reference "resource" "resources" (attrNames resources) place name
    else if !isAttrs b || isDerivation b then problem place "expected an attribute set, found ${kind b}"
    else if mounted then
      unknownKeys keys.mount place b
      ++ (if b ? path then [ ] else missing place "path" "give the guest path to mount it at, like \"/data\"")
      ++ fields {
        path = string;
        mode = oneOf [ "ro" "rw" ] (v: "${show v} is not an access mode; use \"ro\" or \"rw\"");
      } place b
    else if elem type resourceTypes then
      concatMap
        (k: problem (place ++ [ k ]) "a ${type} binding takes no keys; write {} to grant the resource")
        (attrNames b)
    else [ ]; # the resource's own type is wrong, and reported there

  # The display grant; the colour's syntax is the C compiler's to check.
  display = place: d:
    if !isAttrs d || isDerivation d then problem place "expected an attribute set, like { label.color = \"#c00000\"; } ({ } for the defaults), found ${kind d}"
    else
      unknownKeys keys.display place d
      ++ fields {
        label = place: l:
          if !isAttrs l || isDerivation l then problem place "expected an attribute set, like { color = \"#c00000\"; }, found ${kind l}"
          else unknownKeys keys.label place l ++ fields { color = string; } place l;
        fullscreen = bool;
        clipboard = oneOf [ "none" ] (v: "unknown clipboard policy ${show v}; use \"none\" (the guest neither reads nor sets the host's clipboard)");
        compression = oneOf compressions (v: "unknown compression ${show v}; ${suggest v compressions "use one of"}");
      } place d;

  instance = config: _: place: inst:
    let
      apps = if isAttrs (config.applications or { }) then config.applications or { } else { };
      resources = if isAttrs (config.resources or { }) then config.resources or { } else { };
    in
    unknownKeys keys.instance place inst
    ++ (if inst ? application && inst ? applications then
          problem place "both \"application\" and \"applications\" are given; keep \"application\" for one or \"applications\" for several"
        else if inst ? application then reference "application" "applications" (attrNames apps) (place ++ [ "application" ]) inst.application
        else if inst ? applications then
          (if !isList inst.applications then
            problem (place ++ [ "applications" ]) "expected a list of application names, like [ \"mail\" \"notes\" ], found ${kind inst.applications}"
          else concatLists (imap (i: reference "application" "applications" (attrNames apps) (place ++ [ "applications" i ])) inst.applications))
        else missing place "application" "name the application this instance runs")
    ++ fields {
      bindings = place: v:
        if !isAttrs v || isDerivation v then problem place "expected an attribute set of resource names, found ${kind v}"
        else concatMapAttrs (n: binding resources (place ++ [ n ]) n) v;
      memory = size "memory" "512M";
      vcpus = int;
      hypervisor = oneOf hypervisors (v: "unknown hypervisor ${show v}; ${suggest v hypervisors "use one of"}");
      shareRoot = bool;
      autostart = bool;
      restart = oneOf restarts (v: "unknown restart policy ${show v}; ${suggest v restarts "use one of"}");
      disposable = bool;
      inherit display;
    } place inst;

  # --- the whole -----------------------------------------------------------

  problems = config:
    if !isAttrs config then problem [ ] "expected an attribute set, found ${kind config}"
    else
      unknownKeys (keys.top ++ [ "imports" ]) [ ] config
      ++ (if !(config ? version) || config.version == 1 then [ ]
          else if isInt config.version then
            problem [ "version" ] "unsupported version ${toString config.version}; this Spectrum reads version 1 data files"
          else problem [ "version" ] "expected the integer 1, found ${kind config.version}")
      ++ fields {
        applications = section "application" "application" application;
        resources = section "resource" "resource" resource;
        instances = section "instance" "instance" (instance config);
      } [ ] config;

  # --- conversion into the data file's model ------------------------------

  toPathString = v: if isString v then v else if isAttrs v then v.outPath else toString v;
  strip = obj: removeAttrs obj [ "_spectrum" ];

  toData = config: {
    version = 1;
    applications = mapAttrs
      (_: app: strip app // (if app ? image then { image = toPathString app.image; } else { }))
      (config.applications or { });
    resources = mapAttrs
      (_: res: strip res // (if res ? path then { path = toPathString res.path; } else { }))
      (config.resources or { });
    instances = mapAttrs (_: strip) (config.instances or { });
  };
in
{
  inherit keys problems toData;
  # The whole: a checked configuration's model, or every problem at once.
  model = config:
    let p = problems config; in
    if p == [ ] then toData config else lib.report p;
}
