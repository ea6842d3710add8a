package dev.bosun.xds;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.pgv.ValidationException;
import io.envoyproxy.pgv.Validator;
import io.envoyproxy.pgv.ValidatorImpl;
import io.envoyproxy.pgv.ValidatorIndex;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks resources against Envoy's own field constraints: the protoc-gen-validate rules of Envoy's
 * protos, compiled into validators at build time. PGV does not look inside {@link Any}, so every
 * packed Envoy config (an HTTP connection manager in a listener, a router filter in it, a TLS
 * context in a transport socket) is unpacked and checked as well.
 */
public final class EnvoyValidator {
  private static final String TYPE_PREFIX = "type.googleapis.com/";

  /**
   * Messages that recur across many resources (the same virtual host or route in the route
   * configurations of every namespace): once one has passed, an equal one is not checked again.
   */
  private static final Set<Class<?>> MEMOIZED = Set.of(VirtualHost.class, Route.class);

  private final Cache<Message, Boolean> passedConstraints = passed();
  private final Cache<Message, Boolean> passedPacked = passed();

  /** Bounded by the encoded size of what it remembers, least recently used first out. */
  private static Cache<Message, Boolean> passed() {
    return CacheBuilder.newBuilder()
        .maximumWeight(16L << 20)
        .<Message, Boolean>weigher((message, passed) -> 64 + message.getSerializedSize())
        .build();
  }

  private static final EnvoyValidator SHARED = new EnvoyValidator();

  /**
   * The instance every stage checks with, so that a message checked where it is built (a route, an
   * RBAC policy) is not walked again when the resource holding it is encoded.
   */
  public static EnvoyValidator shared() {
    return SHARED;
  }

  private final ValidatorIndex index = new MemoizingIndex();
  private final Map<String, Optional<Class<? extends Message>>> types = new ConcurrentHashMap<>();

  /** The first violation, as {@code <field>: <reason>}, or empty when the resource is valid. */
  public Optional<String> check(Message message) {
    try {
      validate(message, message.getDescriptorForType().getName());
      return Optional.empty();
    } catch (ValidationException e) {
      return Optional.of(e.getField() + ": " + e.getReason());
    } catch (InvalidProtocolBufferException e) {
      return Optional.of("packed config cannot be read: " + e.getMessage());
    }
  }

  /** PGV's validator checks the message and every message inside it, except inside Anys. */
  private void validate(Message message, String path)
      throws ValidationException, InvalidProtocolBufferException {
    index.validatorFor(message.getClass()).assertValid(message);
    findPacked(message, path);
  }

  /** Finds the Anys in a message, however deep, and validates what they carry. */
  private void findPacked(Message message, String path)
      throws ValidationException, InvalidProtocolBufferException {
    for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
      if (field.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      String fieldPath = path + "." + field.getKey().getName();
      if (field.getKey().isRepeated()) {
        List<?> values = (List<?>) field.getValue();
        for (int i = 0; i < values.size(); i++) {
          inner(values.get(i), fieldPath + "[" + i + "]");
        }
      } else {
        inner(field.getValue(), fieldPath);
      }
    }
  }

  private void inner(Object value, String path)
      throws ValidationException, InvalidProtocolBufferException {
    if (value instanceof Any any) {
      Optional<Class<? extends Message>> type = type(any.getTypeUrl());
      if (type.isPresent()) {
        try {
          validate(any.unpack(type.get()), path);
        } catch (ValidationException e) {
          throw new ValidationException(
              path + " (" + type.get().getSimpleName() + ") " + e.getField(),
              e.getValue(),
              e.getReason());
        }
      }
    } else if (value instanceof Message message && !(value instanceof com.google.protobuf.Struct)) {
      boolean memoized = MEMOIZED.contains(message.getClass());
      if (memoized && passedPacked.getIfPresent(message) != null) {
        return;
      }
      findPacked(message, path);
      if (memoized) {
        passedPacked.put(message, Boolean.TRUE);
      }
    }
  }

  /**
   * PGV's validators, found as its reflective index finds them (the class {@code <top-level
   * message>Validator} generated beside each message), with the recurring messages remembered once
   * they pass. Nested messages are checked through this index too, so memoising reaches them.
   */
  private final class MemoizingIndex implements ValidatorIndex {
    private final Map<Class<?>, Validator<?>> validators = new ConcurrentHashMap<>();

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public <T> Validator<T> validatorFor(Class clazz) {
      return (Validator<T>) validators.computeIfAbsent(clazz, this::find);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Validator<?> find(Class<?> clazz) {
      Class<?> top = clazz;
      while (top.getEnclosingClass() != null) {
        top = top.getEnclosingClass();
      }
      ValidatorImpl impl;
      try {
        impl =
            (ValidatorImpl)
                clazz
                    .getClassLoader()
                    .loadClass(top.getName() + "Validator")
                    .getDeclaredMethod("validatorFor", Class.class)
                    .invoke(null, clazz);
      } catch (ReflectiveOperationException | RuntimeException e) {
        return Validator.ALWAYS_VALID; // no constraints generated for this message
      }
      if (!MEMOIZED.contains(clazz)) {
        return proto -> impl.assertValid(proto, this);
      }
      return proto -> {
        if (passedConstraints.getIfPresent(proto) == null) {
          impl.assertValid(proto, this);
          passedConstraints.put((Message) proto, Boolean.TRUE);
        }
      };
    }
  }

  /** Envoy's Java classes live at {@code io.envoyproxy.<proto package>.<Message>}. */
  @SuppressWarnings("unchecked")
  private Optional<Class<? extends Message>> type(String typeUrl) {
    return types.computeIfAbsent(
        typeUrl,
        url -> {
          if (!url.startsWith(TYPE_PREFIX + "envoy.")) {
            return Optional.empty();
          }
          try {
            Class<?> type = Class.forName("io.envoyproxy." + url.substring(TYPE_PREFIX.length()));
            return Message.class.isAssignableFrom(type)
                ? Optional.of((Class<? extends Message>) type)
                : Optional.empty();
          } catch (ClassNotFoundException e) {
            return Optional.empty();
          }
        });
  }
}
