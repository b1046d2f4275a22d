package dev.kavach.egress;

import java.util.Locale;

/**
 * One entry of {@code allowed_hosts} or {@code denied_hosts}: an exact name ({@code
 * api.github.com}) or a wildcard ({@code *.pypi.org}), optionally with {@code :port}.
 *
 * <p>A wildcard matches every name below the suffix at any depth ({@code files.pypi.org}, {@code
 * a.b.pypi.org}) and never the suffix itself: {@code *.pypi.org} does not match {@code pypi.org}.
 * List both when both are meant. This is the reading that cannot widen an allowlist by surprise,
 * and it keeps a deny entry {@code *.example.com} from being taken as a deny of the apex.
 *
 * @param text the entry as written
 * @param wildcard whether it starts with {@code *.}
 * @param name the exact name, or for a wildcard the suffix after {@code *.}
 * @param port the only port it covers, or 0 for every port
 */
record HostPattern(String text, boolean wildcard, String name, int port) {

  /** Parses an entry already validated by {@link dev.kavach.policy.NetworkPolicy}. */
  static HostPattern parse(String text) {
    String t = text.toLowerCase(Locale.ROOT);
    int port = 0;
    int colon = t.lastIndexOf(':');
    if (colon >= 0) {
      port = Integer.parseInt(t.substring(colon + 1));
      t = t.substring(0, colon);
    }
    boolean wildcard = t.startsWith("*.");
    return new HostPattern(text, wildcard, wildcard ? t.substring(2) : t, port);
  }

  /** Whether the entry covers this (normalised) host name, whatever the port. */
  boolean matchesHost(String host) {
    if (!wildcard) {
      return host.equals(name);
    }
    return host.length() > name.length() + 1
        && host.endsWith(name)
        && host.charAt(host.length() - name.length() - 1) == '.';
  }

  /** Whether the entry covers this host and port. */
  boolean matches(String host, int p) {
    return matchesHost(host) && (port == 0 || port == p);
  }

  @Override
  public String toString() {
    return text;
  }
}
