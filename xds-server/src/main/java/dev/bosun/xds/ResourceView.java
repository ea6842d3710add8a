package dev.bosun.xds;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * An immutable set of resources by name, as one proxy has them: a base map, usually shared by every
 * stream that was sent the same full set, plus this stream's own few changes since. A proxy of
 * thousands of resources costs a stream a reference, not a copy; the changes are folded into a
 * private base only once they outnumber a quarter of it.
 */
final class ResourceView {
  static final ResourceView EMPTY = new ResourceView(Map.of(), Map.of(), 0);

  private final Map<String, EncodedResource> base;

  /** Changes on top of {@link #base}: a null value removes the name. */
  private final Map<String, EncodedResource> changes;

  private final int size;

  private ResourceView(
      Map<String, EncodedResource> base, Map<String, EncodedResource> changes, int size) {
    this.base = base;
    this.changes = changes;
    this.size = size;
  }

  /** Exactly {@code resources}, which the caller no longer modifies (it may be shared). */
  static ResourceView of(Map<String, EncodedResource> resources) {
    return new ResourceView(resources, Map.of(), resources.size());
  }

  EncodedResource get(String name) {
    if (changes.containsKey(name)) {
      return changes.get(name);
    }
    return base.get(name);
  }

  /** Whether this view is exactly {@code resources} (the same shared map, nothing changed). */
  boolean isExactly(Map<String, EncodedResource> resources) {
    return changes.isEmpty() && base == resources;
  }

  Set<String> names() {
    if (changes.isEmpty()) {
      return Collections.unmodifiableSet(base.keySet());
    }
    Set<String> names = new HashSet<>(base.keySet());
    changes.forEach(
        (name, resource) -> {
          if (resource == null) {
            names.remove(name);
          } else {
            names.add(name);
          }
        });
    return names;
  }

  int size() {
    return size;
  }

  /** This view with {@code resources} added or replaced. */
  ResourceView with(Map<String, EncodedResource> resources) {
    if (resources.isEmpty()) {
      return this;
    }
    Map<String, EncodedResource> next = new HashMap<>(changes);
    int nextSize = size;
    for (Map.Entry<String, EncodedResource> resource : resources.entrySet()) {
      if (get(resource.getKey()) == null) {
        nextSize++;
      }
      next.put(resource.getKey(), resource.getValue());
    }
    return compacted(next, nextSize);
  }

  /** This view without {@code names}. */
  ResourceView without(Collection<String> names) {
    Map<String, EncodedResource> next = new HashMap<>(changes);
    int nextSize = size;
    for (String name : names) {
      if (next.containsKey(name) ? next.get(name) != null : base.get(name) != null) {
        next.put(name, null);
        nextSize--;
      }
    }
    return nextSize == size ? this : compacted(next, nextSize);
  }

  private ResourceView compacted(Map<String, EncodedResource> next, int nextSize) {
    if (next.size() <= Math.max(16, base.size() / 4)) {
      return new ResourceView(base, next, nextSize);
    }
    Map<String, EncodedResource> merged = new HashMap<>(base);
    next.forEach(
        (name, resource) -> {
          if (resource == null) {
            merged.remove(name);
          } else {
            merged.put(name, resource);
          }
        });
    return new ResourceView(merged, Map.of(), merged.size());
  }
}
