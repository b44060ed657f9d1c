# SPDX-License-Identifier: GPL-2.0-or-later
#
# fromData FILE: a spectrum.json(5) data file read into the library's own
# declarations (application, resource, instance), as a module that
# `system` takes and later modules extend or override.
{ spectrum }:
file:
let
  inherit (builtins) dirOf fromJSON getEnv isAttrs isString mapAttrs readFile substring trace;

  # spectrum(1) sets SPECTRUM_NIX_DATA_TRACE=1 and reads these lines from
  # standard error: a problem of the merged configuration that the data
  # file has on its own, at the same place, is then reported against the
  # data file and its place, as `spectrum check FILE.json` reports it.  A
  # trace, not a key of the model: the list is wanted most when the
  # evaluation fails.  Anyone else evaluating sees no trace.
  announce = v:
    if getEnv "SPECTRUM_NIX_DATA_TRACE" == "1"
    then trace "spectrum-data-file: ${toString file}" v
    else v;

  # Nix's JSON parser gives a line and a column but no file: the context,
  # which spectrum(1) reads from --show-trace, names it.
  data = builtins.addErrorContext "while reading the Spectrum data file ${toString file}"
    (fromJSON (readFile file));

  # Relative image and volume paths of a data file are relative to the
  # file's directory; the module may be used from a Nix file elsewhere, so
  # they are made absolute here.
  dir = toString (dirOf file);
  isRelativePath = p: isString p && builtins.match ".*/.*" p != null && substring 0 1 p != "/";
  rebase = obj: key:
    if isAttrs obj && isRelativePath (obj.${key} or null)
    then obj // { ${key} = "${dir}/${obj.${key}}"; }
    else obj;

  # A section that is not an attribute set is passed on as it is, for
  # `system` to report with its place.
  each = f: section: if isAttrs section then mapAttrs (_: f) section else section;
in
announce (if !isAttrs data then
  throw "spectrum: ${toString file}: the data file is not a JSON object"
else
  data
  // (if data ? applications then { applications = each (a: spectrum.application (rebase a "image")) data.applications; } else { })
  // (if data ? resources then {
    resources = each
      (r: spectrum.resource (if isAttrs r && (r.type or null) == "block" then rebase r "path" else r))
      data.resources;
  } else { })
  // (if data ? instances then { instances = each spectrum.instance data.instances; } else { }))
