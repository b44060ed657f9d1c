# SPDX-License-Identifier: GPL-2.0-or-later
#
# Generic helpers for the Spectrum Nix library: the few functions of
# nixpkgs' lib that it needs, written against builtins only, so that the
# library evaluates with a bare nix-instantiate and no channel.
let
  inherit (builtins)
    attrNames concatStringsSep elemAt foldl' genList isAttrs isList length
    listToAttrs mapAttrs match stringLength substring typeOf;
in
rec {
  # A derivation is an attribute set, but a value, not a set of options:
  # it is never merged into or checked key by key.
  isDerivation = v: isAttrs v && (v.type or null) == "derivation";

  # A plain attribute set: one the merge recurses into.
  isPlainSet = v: isAttrs v && !isDerivation v && !(v ? _spectrumReplace);

  range = n: genList (i: i) n;

  # What a value is, in the words of the error messages ("expected a
  # string, found an integer").
  kind = v:
    let t = typeOf v; in
    if t == "set" then (if isDerivation v then "a derivation" else "an attribute set")
    else {
      int = "an integer";
      float = "a number";
      bool = "a boolean";
      string = "a string";
      path = "a path";
      null = "null";
      list = "a list";
      lambda = "a function";
    }.${t} or t;

  # "an application", "a resource".
  withArticle = word:
    if builtins.elem (substring 0 1 word) [ "a" "e" "i" "o" "u" ] then "an ${word}" else "a ${word}";

  # --- places: "instances.mail-work.bindings.store.mode" ---------------
  #
  # A place is a list of keys and list indices, printed as spectrum check
  # prints the JSON path of a value, so that an error found by Nix and one
  # found by the C compiler read the same.

  quoteKey = k:
    if match "[A-Za-z0-9_-]+" k != null then k
    else
      let
        short = if stringLength k > 60 then substring 0 60 k + "..." else k;
        escaped = builtins.replaceStrings [ "\\" "\"" "\n" "\t" "\r" ] [ "\\\\" "\\\"" "?" "?" "?" ] short;
      in "\"${escaped}\"";

  showPlace = place:
    foldl'
      (acc: k:
        if builtins.isInt k then "${acc}[${toString k}]"
        else if acc == "" then quoteKey k
        else "${acc}.${quoteKey k}")
      "" place;

  # One problem, as a list so that checks concatenate.  A problem is a
  # line "PLACE: MESSAGE"; `report` throws them all at once.
  problem = place: msg: [ "${showPlace place}: ${msg}" ];

  # Every line starts with the same prefix: the spectrum client recognises
  # it and prints each as one diagnostic, like the C compiler's own.
  prefix = "spectrum: ";

  # Like the C client, at most this many problems are listed.
  maxProblems = 50;

  report = problems:
    let
      n = length problems;
      shown = if n > maxProblems then genList (elemAt problems) maxProblems else problems;
      more = if n > maxProblems then [ "${toString (n - maxProblems)} more problems not shown" ] else [ ];
    in
    throw (concatStringsSep "\n" (map (p: prefix + p) (shown ++ more)));

  # --- "did you mean" -----------------------------------------------------

  # Edit distance of two short strings (keys and names), as spectrum check
  # measures it: optimal string alignment, where inserting, deleting or
  # changing a character, or swapping two neighbours ("mial" -> "mail"),
  # costs one.  Strings longer than 64 characters are simply far.
  editDistance = a: b:
    let
      la = stringLength a;
      lb = stringLength b;
      ch = s: i: substring i 1 s;
      min = x: y: if x < y then x else y;
      # Row i+1 of the table (the first i+1 characters of a) from rows i
      # and i-1.
      next = rows: i:
        let
          inherit (rows) prev prev2;
          row = foldl'
            (r: j:
              let
                cost = if ch a i == ch b j then 0 else 1;
                best = min (min (elemAt prev (j + 1) + 1) (elemAt r j + 1)) (elemAt prev j + cost);
                swap =
                  if i > 0 && j > 0 && ch a i == ch b (j - 1) && ch a (i - 1) == ch b j
                  then elemAt prev2 (j - 1) + 1 else best;
              in
              r ++ [ (min best swap) ])
            [ (i + 1) ]
            (range lb);
        in
        { prev = row; prev2 = prev; };
      first = range (lb + 1);
    in
    if la > 64 || lb > 64 then 64
    else elemAt (foldl' next { prev = first; prev2 = first; } (range la)).prev lb;

  # The choice closest to word, as spectrum check picks it: within 1 edit
  # of a choice of up to 4 characters, else within 2; NULL if none.
  closest = word: choices:
    let
      pick = best: c:
        let
          d = editDistance word c;
          limit = if stringLength c <= 4 then 1 else 2;
        in
        if d <= limit && d < best.d then { inherit c d; } else best;
    in
    (foldl' pick { c = null; d = 3; } choices).c;

  # "did you mean \"memory\"?" or "WHAT a, b, c".
  suggest = word: choices: what:
    let near = closest word choices; in
    if near != null then "did you mean \"${near}\"?"
    else "${what} ${concatStringsSep ", " choices}";

  # --- merging ------------------------------------------------------------

  # A value that replaces, instead of merging with, what an earlier module
  # set at the same place.
  replace = value: { _spectrumReplace = value; };

  # Drops the replace markers of a value that is not merged with anything.
  unwrap = v:
    if isAttrs v && v ? _spectrumReplace then unwrap v._spectrumReplace
    else if isPlainSet v then mapAttrs (_: unwrap) v
    else v;

  # recursiveUpdate, as in nixpkgs' lib, with two twists: `replace` stops
  # the recursion, and a null is kept so that a later pass (`dropNulls`)
  # removes the attribute.  Lists, strings and numbers of b win.  The
  # attribute names of the result depend only on the names of a and b,
  # never on their values, so a module may read the merged configuration
  # without recursing forever.
  merge = a: b:
    if isPlainSet a && isPlainSet b then
      listToAttrs (map
        (n: {
          name = n;
          value =
            if !(b ? ${n}) then a.${n}
            else if !(a ? ${n}) then unwrap b.${n}
            else merge a.${n} b.${n};
        })
        (attrNames (a // b)))
    else unwrap b;

  # Removes every attribute whose value is null: a later module sets an
  # attribute to null to take it away (a binding, an instance, an override).
  dropNulls = v:
    if isPlainSet v then
      mapAttrs (_: dropNulls)
        (builtins.removeAttrs v (builtins.filter (n: v.${n} == null) (attrNames v)))
    else if isList v then map dropNulls v
    else v;
}
