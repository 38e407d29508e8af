package sim

import (
	"testing"
)

func TestAWriteRoundTripsThroughEntryDataWithItsPadding(t *testing.T) {
	for _, size := range []int{0, 5, 300} {
		data := encodeWrite("k1", "c3.17", size)
		if len(data) < size {
			t.Fatalf("padded to %d bytes, want %d", len(data), size)
		}
		w, ok, err := decodeWrite(data)
		if err != nil || !ok || w != (write{key: "k1", value: "c3.17", client: 3, seq: 17}) {
			t.Fatalf("size %d: decoded %+v, %t, %v", size, w, ok, err)
		}
	}
	if _, ok, err := decodeWrite(nil); ok || err != nil {
		t.Fatalf("the empty entry decodes as a write: %t, %v", ok, err)
	}
	for _, bad := range []string{"k1", "k1=x3.1", "k1=c3", "k1=c3.x"} {
		if _, _, err := decodeWrite([]byte(bad)); err == nil {
			t.Errorf("%q decodes", bad)
		}
	}
}

func TestTheStateMachineAppliesEachClientsWriteOnce(t *testing.T) {
	kv := newKV()
	if !kv.applyWrite(1, write{key: "a", value: "c1.1", client: 1, seq: 1}) {
		t.Fatal("a first write took no effect")
	}
	kv.applyWrite(2, write{key: "a", value: "c2.1", client: 2, seq: 1})
	if kv.applyWrite(3, write{key: "a", value: "c1.1", client: 1, seq: 1}) {
		t.Fatal("a write applied again (a duplicated proposal) took effect")
	}
	if kv.data["a"] != "c2.1" || kv.applied != 3 {
		t.Fatalf("state %v at %d", kv.data, kv.applied)
	}
}

func TestASnapshotRestoresTheSameState(t *testing.T) {
	kv := newKV()
	kv.applyWrite(1, write{key: "b", value: "c2.4", client: 2, seq: 4})
	kv.applyWrite(2, write{key: "a", value: "c1.9", client: 1, seq: 9})
	var back kvState
	if err := back.restore(2, kv.snapshot()); err != nil {
		t.Fatal(err)
	}
	if back.digest() != kv.digest() || back.applied != 2 || back.seq[1] != 9 {
		t.Fatalf("restored %+v from %+v", back, kv)
	}
	if err := back.restore(3, []byte("x y\n")); err == nil {
		t.Fatal("a bad snapshot restored")
	}
}
