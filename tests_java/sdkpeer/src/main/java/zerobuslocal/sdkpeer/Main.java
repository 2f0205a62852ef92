package zerobuslocal.sdkpeer;

import com.databricks.zerobus.AckCallback;
import com.databricks.zerobus.StreamConfigurationOptions;
import com.databricks.zerobus.ZerobusJsonStream;
import com.databricks.zerobus.ZerobusProtoStream;
import com.databricks.zerobus.ZerobusSdk;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Drives the official Databricks Zerobus Java SDK against a local Zerobus server and prints one JSON
 * object on stdout: per phase, the records handed to the SDK, the offsets it returned, the acks it
 * reported and the exception it raised, if any. The caller (tests_py/test_official_java_sdk.py)
 * creates the tables, injects the faults and compares the stored rows with this summary.
 *
 * <p>Usage: {@code Main ENDPOINT WORKSPACE_URL CLIENT_ID TABLE_PREFIX N [FAULT,...]}; the client
 * secret is read from $ZEROBUS_CLIENT_SECRET so it is not on the command line. Tables used:
 * PREFIX_proto, PREFIX_json, PREFIX_legacy, PREFIX_fault_FAULT for each FAULT named (the caller
 * arms a fault on each), PREFIX_refused (all with the columns of {@link #COLUMNS}).
 */
public final class Main {
  /** The table the caller creates, in Unity Catalog DDL. */
  static final String COLUMNS =
      "id BIGINT NOT NULL, label STRING NOT NULL, name STRING, score DOUBLE, ok BOOLEAN,"
          + " at TIMESTAMP, tags ARRAY<STRING>, loc STRUCT<lat:DOUBLE,city:STRING>";

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 5 && args.length != 6) {
      System.err.println("usage: Main ENDPOINT WORKSPACE_URL CLIENT_ID TABLE_PREFIX N [FAULT,...]");
      System.exit(2);
    }
    String endpoint = args[0];
    String workspace = args[1];
    String clientId = args[2];
    String prefix = args[3];
    int n = Integer.parseInt(args[4]);
    String secret = System.getenv("ZEROBUS_CLIENT_SECRET");
    if (secret == null || secret.isEmpty()) {
      System.err.println("ZEROBUS_CLIENT_SECRET is not set");
      System.exit(2);
    }
    Json out = new Json().beginObject();
    out.key("sdk_version").value(sdkVersion());
    out.key("columns").value(COLUMNS);
    out.key("phases").beginObject();
    try (ZerobusSdk sdk = new ZerobusSdk(endpoint, workspace)) {
      Peer p = new Peer(sdk, clientId, secret);
      out.key("proto");
      p.protoPhase(prefix + "_proto", n, options(false, null)).write(out);
      out.key("json");
      p.jsonPhase(prefix + "_json", n).write(out);
      out.key("legacy");
      p.legacyPhase(prefix + "_legacy", n).write(out);
      for (String fault : args.length == 6 ? args[5].split(",") : new String[0]) {
        out.key("fault_" + fault);
        p.faultPhase(prefix + "_fault_" + fault, n).write(out);
      }
      out.key("refused_null_proto");
      p.refusedNullProto(prefix + "_refused").write(out);
      out.key("refused_null_json");
      p.refusedNullJson(prefix + "_refused").write(out);
      out.key("refused_schema");
      p.refusedSchema(prefix + "_refused").write(out);
    }
    out.endObject().endObject();
    System.out.println(out);
  }

  static String sdkVersion() throws Exception {
    String res = "/META-INF/maven/com.databricks/zerobus-ingest-sdk/pom.properties";
    try (InputStream in = ZerobusSdk.class.getResourceAsStream(res)) {
      if (in == null) {
        return "unknown";
      }
      Properties props = new Properties();
      props.load(in);
      return props.getProperty("version", "unknown");
    }
  }

  static StreamConfigurationOptions options(boolean recovery, AckCallback acks) {
    StreamConfigurationOptions.StreamConfigurationOptionsBuilder b =
        StreamConfigurationOptions.builder()
            .setRecovery(recovery)
            .setRecoveryBackoffMs(100)
            .setRecoveryRetries(5)
            .setRecoveryTimeoutMs(5000)
            .setFlushTimeoutMs(20000)
            .setServerLackOfAckTimeoutMs(20000);
    if (acks != null) {
      b.setAckCallback(acks);
    }
    return b.build();
  }

  /** One row of the test table; null fields are NULL (an empty tag list is an empty ARRAY). */
  static final class Row {
    long id;
    String label;
    String name;
    Double score;
    Boolean ok;
    Long at; // microseconds since the epoch, UTC
    List<String> tags = new ArrayList<>();
    Double lat; // loc.lat; loc is null when both lat and city are null
    String city;

    boolean hasLoc() {
      return lat != null || city != null;
    }

    /** Row i of a phase: every nullable column is null in some rows, set in others. */
    static Row make(int i) {
      Row r = new Row();
      r.id = 1000L * i + 7;
      r.label = "label-" + i + (i % 4 == 1 ? " \u00e9\u65e5\u672c \"q\" \\" : "");
      r.name = i % 3 == 0 ? null : "name-" + i;
      r.score = i % 5 == 4 ? null : (i % 2 == 0 ? i * 1.5 : -i / 3.0);
      r.ok = i % 4 == 3 ? null : i % 2 == 0;
      r.at = i % 6 == 5 ? null : 1_700_000_000_123_456L + 86_400_000_000L * i + i;
      if (i % 3 != 2) {
        r.tags.add("t" + i);
        if (i % 2 == 1) {
          r.tags.add("");
          r.tags.add("x" + i);
        }
      }
      if (i % 2 == 1) {
        r.lat = i / 4.0;
        r.city = i % 5 == 0 ? null : "city-" + i;
      }
      return r;
    }

    void write(Json j) {
      j.beginObject();
      j.key("id").value(id);
      j.key("label").value(label);
      j.key("name").value(name);
      j.key("score").value(score);
      j.key("ok").value(ok);
      j.key("at").value(at);
      j.key("tags").beginArray();
      for (String t : tags) {
        j.value(t);
      }
      j.endArray();
      j.key("loc");
      if (hasLoc()) {
        j.beginObject().key("lat").value(lat).key("city").value(city).endObject();
      } else {
        j.nullValue();
      }
      j.endObject();
    }

    String json() {
      Json j = new Json();
      write(j);
      return j.toString();
    }
  }

  /** The message type of the table: NOT NULL columns required, the others optional. */
  static Descriptor descriptor(boolean extraField) throws Exception {
    DescriptorProto loc =
        DescriptorProto.newBuilder()
            .setName("Loc")
            .addField(field("lat", 1, FieldDescriptorProto.Type.TYPE_DOUBLE, false))
            .addField(field("city", 2, FieldDescriptorProto.Type.TYPE_STRING, false))
            .build();
    DescriptorProto.Builder row =
        DescriptorProto.newBuilder()
            .setName("JavaRow")
            .addField(field("id", 1, FieldDescriptorProto.Type.TYPE_INT64, true))
            .addField(field("label", 2, FieldDescriptorProto.Type.TYPE_STRING, true))
            .addField(field("name", 3, FieldDescriptorProto.Type.TYPE_STRING, false))
            .addField(field("score", 4, FieldDescriptorProto.Type.TYPE_DOUBLE, false))
            .addField(field("ok", 5, FieldDescriptorProto.Type.TYPE_BOOL, false))
            .addField(field("at", 6, FieldDescriptorProto.Type.TYPE_INT64, false))
            .addField(
                field("tags", 7, FieldDescriptorProto.Type.TYPE_STRING, false)
                    .toBuilder()
                    .setLabel(FieldDescriptorProto.Label.LABEL_REPEATED))
            .addField(
                field("loc", 8, FieldDescriptorProto.Type.TYPE_MESSAGE, false)
                    .toBuilder()
                    .setTypeName(".sdkpeer.JavaRow.Loc"))
            .addNestedType(loc);
    if (extraField) {
      row.addField(field("surprise", 9, FieldDescriptorProto.Type.TYPE_BOOL, false));
    }
    FileDescriptorProto file =
        FileDescriptorProto.newBuilder()
            .setName("sdkpeer.proto")
            .setPackage("sdkpeer")
            .setSyntax("proto2")
            .addMessageType(row)
            .build();
    return FileDescriptor.buildFrom(file, new FileDescriptor[0]).findMessageTypeByName("JavaRow");
  }

  static FieldDescriptorProto field(
      String name, int number, FieldDescriptorProto.Type type, boolean required) {
    return FieldDescriptorProto.newBuilder()
        .setName(name)
        .setNumber(number)
        .setType(type)
        .setLabel(
            required
                ? FieldDescriptorProto.Label.LABEL_REQUIRED
                : FieldDescriptorProto.Label.LABEL_OPTIONAL)
        .build();
  }

  static DynamicMessage message(Descriptor d, Row r, boolean partial) {
    DynamicMessage.Builder b = DynamicMessage.newBuilder(d);
    b.setField(d.findFieldByName("id"), r.id);
    if (r.label != null) {
      b.setField(d.findFieldByName("label"), r.label);
    }
    if (r.name != null) {
      b.setField(d.findFieldByName("name"), r.name);
    }
    if (r.score != null) {
      b.setField(d.findFieldByName("score"), r.score);
    }
    if (r.ok != null) {
      b.setField(d.findFieldByName("ok"), r.ok);
    }
    if (r.at != null) {
      b.setField(d.findFieldByName("at"), r.at);
    }
    for (String t : r.tags) {
      b.addRepeatedField(d.findFieldByName("tags"), t);
    }
    if (r.hasLoc()) {
      Descriptor ld = d.findNestedTypeByName("Loc");
      DynamicMessage.Builder lb = DynamicMessage.newBuilder(ld);
      if (r.lat != null) {
        lb.setField(ld.findFieldByName("lat"), r.lat);
      }
      if (r.city != null) {
        lb.setField(ld.findFieldByName("city"), r.city);
      }
      b.setField(d.findFieldByName("loc"), lb.build());
    }
    return partial ? b.buildPartial() : b.build();
  }

  /** What one phase did, written into the summary. */
  static final class Phase {
    final String table;
    final String form;
    final List<Row> records = new ArrayList<>();
    final List<Long> offsets = new ArrayList<>(); // the offset each ingest call returned
    final List<Integer> callSizes = new ArrayList<>(); // records per ingest call
    final Acks acks = new Acks();
    String errorClass;
    String errorMessage;
    String errorAt; // create, ingest, wait, flush or close
    long unacked = -1; // records the SDK reported unacknowledged after the failure
    long millis;

    Phase(String table, String form) {
      this.table = table;
      this.form = form;
    }

    void fail(String at, Throwable t) {
      Throwable c = t;
      while ((c instanceof CompletionException || c instanceof ExecutionException)
          && c.getCause() != null) {
        c = c.getCause();
      }
      errorAt = at;
      errorClass = c.getClass().getName();
      errorMessage = String.valueOf(c.getMessage());
    }

    /**
     * Waits for the acks a clean phase implies (every offset). After a refusal the SDK calls
     * onError for the refused offset in most runs but not all (it can close the stream first), so
     * nothing is awaited then.
     */
    void settle() throws InterruptedException {
      if (errorClass == null && !offsets.isEmpty()) {
        acks.await(offsets.get(offsets.size() - 1));
      }
    }

    void write(Json j) throws InterruptedException {
      settle();
      j.beginObject();
      j.key("table").value(table);
      j.key("form").value(form);
      j.key("millis").value(millis);
      j.key("offsets").beginArray();
      for (Long o : offsets) {
        j.value(o);
      }
      j.endArray();
      j.key("call_sizes").beginArray();
      for (Integer s : callSizes) {
        j.value((long) s);
      }
      j.endArray();
      synchronized (acks) {
        j.key("acked_offsets").beginArray();
        for (Long o : acks.acked) {
          j.value(o);
        }
        j.endArray();
        j.key("ack_errors").beginArray();
        for (String e : acks.errors) {
          j.value(e);
        }
        j.endArray();
      }
      j.key("error_class").value(errorClass);
      j.key("error_message").value(errorMessage);
      j.key("error_at").value(errorAt);
      j.key("unacked").value(unacked);
      j.key("records").beginArray();
      for (Row r : records) {
        r.write(j);
      }
      j.endArray();
      j.endObject();
    }
  }

  /**
   * The SDK's per-offset acknowledgement callback, recorded. The SDK calls it from its own threads,
   * possibly after flush or close returned: {@link #await} waits (at most 5 s) for what a phase
   * expects before the summary is written.
   */
  static final class Acks implements AckCallback {
    final TreeSet<Long> acked = new TreeSet<>();
    final List<String> errors = new ArrayList<>();

    /** Waits until every offset up to last is acked. */
    synchronized void await(long last) throws InterruptedException {
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (acked.size() < last + 1) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          return;
        }
        wait(left);
      }
    }

    @Override
    public synchronized void onAck(long offsetId) {
      acked.add(offsetId);
      notifyAll();
    }

    @Override
    public synchronized void onError(long offsetId, String errorMessage) {
      errors.add(offsetId + ": " + errorMessage);
      notifyAll();
    }
  }

  static final class Peer {
    final ZerobusSdk sdk;
    final String clientId;
    final String secret;

    Peer(ZerobusSdk sdk, String clientId, String secret) {
      this.sdk = sdk;
      this.clientId = clientId;
      this.secret = secret;
    }

    /**
     * Protobuf records: the first half one call each, the rest in calls of 1, 2, 3, ... records;
     * then wait for the last offset, flush and close.
     */
    Phase protoPhase(String table, int n, StreamConfigurationOptions opts) throws Exception {
      Phase p = new Phase(table, "proto");
      long start = System.nanoTime();
      Descriptor d = descriptor(false);
      ZerobusProtoStream s;
      try {
        s =
            sdk.createProtoStream(table, d.toProto(), clientId, secret, withAcks(opts, p.acks))
                .join();
      } catch (CompletionException e) {
        p.fail("create", e);
        return p;
      }
      String at = "ingest";
      try {
        int i = 0;
        for (; i < n / 2; i++) {
          Row r = Row.make(i);
          p.records.add(r);
          p.offsets.add(s.ingestRecordOffset(message(d, r, false)));
          p.callSizes.add(1);
        }
        for (int size = 1; i < n; size++) {
          List<DynamicMessage> batch = new ArrayList<>();
          for (int k = 0; k < size && i < n; k++, i++) {
            Row r = Row.make(i);
            p.records.add(r);
            batch.add(message(d, r, false));
          }
          Optional<Long> off = s.ingestRecordsOffset(batch);
          p.offsets.add(off.orElse(-1L));
          p.callSizes.add(batch.size());
        }
        if (s.ingestRecordsOffset(Collections.<DynamicMessage>emptyList()).isPresent()) {
          throw new IllegalStateException("an empty batch returned an offset");
        }
        at = "wait";
        s.waitForOffset(p.offsets.get(p.offsets.size() - 1));
        at = "flush";
        s.flush();
        at = "close";
        s.close();
      } catch (Exception e) {
        p.fail(at, e);
        p.unacked = unacked(s);
        closeQuietly(s);
      }
      p.millis = (System.nanoTime() - start) / 1_000_000;
      return p;
    }

    /** JSON records: the first half one call each, the rest in calls of up to 4 records. */
    Phase jsonPhase(String table, int n) throws Exception {
      Phase p = new Phase(table, "json");
      long start = System.nanoTime();
      ZerobusJsonStream s;
      try {
        s = sdk.createJsonStream(table, clientId, secret, options(false, p.acks)).join();
      } catch (CompletionException e) {
        p.fail("create", e);
        return p;
      }
      String at = "ingest";
      try {
        int i = 0;
        for (; i < n / 2; i++) {
          Row r = Row.make(i);
          p.records.add(r);
          p.offsets.add(s.ingestRecordOffset(r.json()));
          p.callSizes.add(1);
        }
        while (i < n) {
          List<String> batch = new ArrayList<>();
          for (int k = 0; k < 4 && i < n; k++, i++) {
            Row r = Row.make(i);
            p.records.add(r);
            batch.add(r.json());
          }
          p.offsets.add(s.ingestRecordsOffset(batch).orElse(-1L));
          p.callSizes.add(batch.size());
        }
        at = "flush";
        s.flush();
        at = "close";
        s.close();
      } catch (Exception e) {
        p.fail(at, e);
        closeQuietly(s);
      }
      p.millis = (System.nanoTime() - start) / 1_000_000;
      return p;
    }

    /**
     * The deprecated API (createStream with TableProperties, ingestRecord returning a future per
     * record that completes at its ack): every future must complete normally.
     */
    @SuppressWarnings("deprecation")
    Phase legacyPhase(String table, int n) throws Exception {
      Phase p = new Phase(table, "proto");
      long start = System.nanoTime();
      Descriptor d = descriptor(false);
      com.databricks.zerobus.ZerobusStream<DynamicMessage> s;
      try {
        s =
            sdk.createStream(
                    new com.databricks.zerobus.TableProperties<>(
                        table, DynamicMessage.getDefaultInstance(d)),
                    clientId,
                    secret,
                    options(false, p.acks))
                .join();
      } catch (CompletionException e) {
        p.fail("create", e);
        return p;
      }
      String at = "ingest";
      try {
        List<CompletableFuture<Void>> acked = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          Row r = Row.make(i);
          p.records.add(r);
          acked.add(s.ingestRecord(message(d, r, false)));
          p.offsets.add((long) i);
          p.callSizes.add(1);
        }
        at = "wait";
        CompletableFuture.allOf(acked.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
        at = "flush";
        s.flush();
        at = "close";
        s.close();
      } catch (Exception e) {
        p.fail(at, e);
        closeQuietly(s);
      }
      p.millis = (System.nanoTime() - start) / 1_000_000;
      return p;
    }

    /**
     * The caller has injected a fault on this table that ends the RPC part way; recovery is on,
     * so the SDK must reconnect and resend what was not acknowledged. Records go one call each
     * with a short pause so that the fault fires while records are in flight.
     */
    Phase faultPhase(String table, int n) throws Exception {
      Phase p = new Phase(table, "proto");
      long start = System.nanoTime();
      Descriptor d = descriptor(false);
      ZerobusProtoStream s;
      try {
        s =
            sdk.createProtoStream(table, d.toProto(), clientId, secret, options(true, p.acks))
                .join();
      } catch (CompletionException e) {
        p.fail("create", e);
        return p;
      }
      String at = "ingest";
      try {
        for (int i = 0; i < n; i++) {
          Row r = Row.make(i);
          p.records.add(r);
          p.offsets.add(s.ingestRecordOffset(message(d, r, false)));
          p.callSizes.add(1);
          if (i % 4 == 3) {
            Thread.sleep(5);
          }
        }
        at = "flush";
        s.flush();
        at = "close";
        s.close();
      } catch (Exception e) {
        p.fail(at, e);
        p.unacked = unacked(s);
        closeQuietly(s);
      }
      p.millis = (System.nanoTime() - start) / 1_000_000;
      return p;
    }

    /** Two good records, then one without the NOT NULL column label (a partial message). */
    Phase refusedNullProto(String table) throws Exception {
      Phase p = new Phase(table, "proto");
      long start = System.nanoTime();
      Descriptor d = descriptor(false);
      ZerobusProtoStream s;
      try {
        s =
            sdk.createProtoStream(table, d.toProto(), clientId, secret, options(true, p.acks))
                .join();
      } catch (CompletionException e) {
        p.fail("create", e);
        return p;
      }
      String at = "ingest";
      try {
        Row good = Row.make(1);
        p.records.add(good);
        p.offsets.add(s.ingestRecordOffset(message(d, good, false)));
        p.callSizes.add(1);
        at = "wait";
        s.waitForOffset(p.offsets.get(0));
        p.acks.await(0);
        Row bad = Row.make(2);
        bad.label = null;
        p.records.add(bad);
        at = "ingest";
        p.offsets.add(s.ingestRecordOffset(message(d, bad, true)));
        p.callSizes.add(1);
        at = "flush";
        s.flush();
        at = "close";
        s.close();
      } catch (Exception e) {
        p.fail(at, e);
        closeQuietly(s);
      }
      p.millis = (System.nanoTime() - start) / 1_000_000;
      return p;
    }

    /** A JSON record with label null. */
    Phase refusedNullJson(String table) throws Exception {
      Phase p = new Phase(table, "json");
      long start = System.nanoTime();
      ZerobusJsonStream s;
      try {
        s = sdk.createJsonStream(table, clientId, secret, options(true, p.acks)).join();
      } catch (CompletionException e) {
        p.fail("create", e);
        return p;
      }
      String at = "ingest";
      try {
        Row bad = Row.make(3);
        bad.label = null;
        p.records.add(bad);
        p.offsets.add(s.ingestRecordOffset(bad.json()));
        p.callSizes.add(1);
        at = "flush";
        s.flush();
        at = "close";
        s.close();
      } catch (Exception e) {
        p.fail(at, e);
        closeQuietly(s);
      }
      p.millis = (System.nanoTime() - start) / 1_000_000;
      return p;
    }

    /** A descriptor with a field the table does not have: refused at create. */
    Phase refusedSchema(String table) throws Exception {
      Phase p = new Phase(table, "proto");
      long start = System.nanoTime();
      try {
        ZerobusProtoStream s =
            sdk.createProtoStream(
                    table, descriptor(true).toProto(), clientId, secret, options(true, p.acks))
                .join();
        closeQuietly(s);
      } catch (CompletionException e) {
        p.fail("create", e);
      }
      p.millis = (System.nanoTime() - start) / 1_000_000;
      return p;
    }

    static StreamConfigurationOptions withAcks(StreamConfigurationOptions o, Acks acks) {
      return StreamConfigurationOptions.builder()
          .setRecovery(o.recovery())
          .setRecoveryBackoffMs(o.recoveryBackoffMs())
          .setRecoveryRetries(o.recoveryRetries())
          .setRecoveryTimeoutMs(o.recoveryTimeoutMs())
          .setFlushTimeoutMs(o.flushTimeoutMs())
          .setServerLackOfAckTimeoutMs(o.serverLackOfAckTimeoutMs())
          .setAckCallback(acks)
          .build();
    }

    static long unacked(ZerobusProtoStream s) {
      try {
        return s.getUnackedRecords().size();
      } catch (Exception e) {
        return -2;
      }
    }

    static void closeQuietly(AutoCloseable s) {
      try {
        s.close();
      } catch (Exception ignored) {
        // the phase already recorded the first failure
      }
    }
  }
}
