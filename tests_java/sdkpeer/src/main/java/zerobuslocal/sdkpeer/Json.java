package zerobuslocal.sdkpeer;

/** A minimal JSON writer (objects, arrays, strings, numbers, booleans, null); no dependency. */
final class Json {
  private final StringBuilder sb = new StringBuilder();
  private boolean needComma;

  Json beginObject() {
    sep();
    sb.append('{');
    needComma = false;
    return this;
  }

  Json endObject() {
    sb.append('}');
    needComma = true;
    return this;
  }

  Json beginArray() {
    sep();
    sb.append('[');
    needComma = false;
    return this;
  }

  Json endArray() {
    sb.append(']');
    needComma = true;
    return this;
  }

  Json key(String k) {
    sep();
    string(k);
    sb.append(':');
    needComma = false;
    return this;
  }

  Json value(String s) {
    if (s == null) {
      return nullValue();
    }
    sep();
    string(s);
    needComma = true;
    return this;
  }

  Json value(Long v) {
    if (v == null) {
      return nullValue();
    }
    sep();
    sb.append(v.longValue());
    needComma = true;
    return this;
  }

  Json value(long v) {
    return value(Long.valueOf(v));
  }

  Json value(Double v) {
    if (v == null) {
      return nullValue();
    }
    if (v.isNaN() || v.isInfinite()) {
      throw new IllegalArgumentException("JSON has no " + v);
    }
    sep();
    sb.append(v.doubleValue());
    needComma = true;
    return this;
  }

  Json value(Boolean v) {
    if (v == null) {
      return nullValue();
    }
    sep();
    sb.append(v.booleanValue());
    needComma = true;
    return this;
  }

  Json nullValue() {
    sep();
    sb.append("null");
    needComma = true;
    return this;
  }

  private void sep() {
    if (needComma) {
      sb.append(',');
    }
  }

  private void string(String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '\t':
          sb.append("\\t");
          break;
        default:
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }

  @Override
  public String toString() {
    return sb.toString();
  }
}
