# A configuration written in Nix only, with what Nix adds to a data file:
# names bound once and used many times, and instances made by a function.
# nix-only.json is the same configuration written out by hand; both give
# the same plans.  See spectrum-nix(7).
let
  spectrum = import ../nix;
  inherit (spectrum) application instance block directory net ro rw;

  lang = { LANG = "en_GB.UTF-8"; };

  # One writer instance per project, each with a volume of its own that
  # only it can change, and a reader instance that may only read it.
  projects = [ "thesis" "taxes" ];
  each = f: builtins.listToAttrs (builtins.concatMap f projects);
  volumes = each (p: [{ name = "${p}-docs"; value = block { size = "2G"; }; }]);
  writers = each (p: [
    {
      name = "${p}";
      value = instance {
        application = "editor";
        bindings."${p}-docs" = rw "/home/user/${p}";
      };
    }
    {
      name = "${p}-reader";
      value = instance {
        application = "viewer";
        bindings."${p}-docs" = ro "/home/user/${p}";
        memory = "128M";
      };
    }
  ]);
in
spectrum.system {
  applications = {
    editor = application {
      image = "editor";
      command = [ "/usr/bin/vim" ];
      env = lang // { TERM = "xterm-256color"; };
      memory = "512M";
    };
    viewer = application {
      image = "editor";
      command = [ "/usr/bin/view" ];
      env = lang // { TERM = "xterm-256color"; };
    };
    browser = application {
      image = "browser";
      command = [ "/usr/bin/firefox" "--no-remote" ];
      env = lang;
      memory = "2G";
      vcpus = 2;
    };
  };

  resources = volumes // {
    web = net { nat = true; };
    shared = directory { path = "/srv/spectrum/shared"; };
  };

  instances = writers // {
    browser = instance {
      application = "browser";
      bindings = {
        web = { };
        shared = ro "/home/user/shared";
      };
      shareRoot = true;
      restart = "on-failure";
    };
  };
}
