package dev.bosun.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** A stream's view of what its proxy has: a shared base plus its own changes. */
class ResourceViewTest {
  private static EncodedResource resource(String name, String version) {
    return new EncodedResource(name, Any.getDefaultInstance(), version);
  }

  private static Map<String, EncodedResource> base(int count) {
    Map<String, EncodedResource> resources = new TreeMap<>();
    for (int i = 0; i < count; i++) {
      resources.put("r" + i, resource("r" + i, "v1"));
    }
    return resources;
  }

  @Test
  void changesApplyOnTopOfTheSharedBase_withoutTouchingIt() {
    Map<String, EncodedResource> shared = base(100);
    ResourceView view = ResourceView.of(shared);

    ResourceView changed =
        view.with(Map.of("r1", resource("r1", "v2"), "new", resource("new", "v1")))
            .without(List.of("r2", "r2", "absent"));

    assertThat(view.isExactly(shared)).isTrue();
    assertThat(changed.isExactly(shared)).isFalse();
    assertThat(changed.get("r1").version()).isEqualTo("v2");
    assertThat(changed.get("new")).isNotNull();
    assertThat(changed.get("r2")).isNull();
    assertThat(changed.size()).isEqualTo(100).isEqualTo(changed.names().size());
    assertThat(shared).hasSize(100).doesNotContainKey("new");
    assertThat(shared.get("r1").version()).isEqualTo("v1");
  }

  @Test
  void manyChanges_areFoldedIntoAPrivateBase_withTheSameContent() {
    ResourceView view = ResourceView.of(base(40));
    Map<String, EncodedResource> changes = new TreeMap<>();
    for (int i = 0; i < 30; i++) {
      changes.put("r" + i, resource("r" + i, "v2"));
    }
    changes.put("extra", resource("extra", "v1"));

    ResourceView changed = view.with(changes).without(List.of("r39"));

    assertThat(changed.size()).isEqualTo(40).isEqualTo(changed.names().size());
    assertThat(changed.get("r0").version()).isEqualTo("v2");
    assertThat(changed.get("r35").version()).isEqualTo("v1");
    assertThat(changed.get("r39")).isNull();
    assertThat(changed.get("extra")).isNotNull();
  }

  @Test
  void removingWhatIsNotThere_changesNothing() {
    ResourceView view = ResourceView.of(base(3));
    assertThat(view.without(List.of("nope"))).isSameAs(view);
    assertThat(view.with(Map.of())).isSameAs(view);
  }
}
