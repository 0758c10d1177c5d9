using System.Buffers.Binary;
using System.Text;
using Engine.Layers;

namespace Engine.Tests;

/// <summary>safetensors checkpoints: round trips, a file written byte by byte from the format, and every kind of damage.</summary>
public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "engine-st-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Tensors_of_every_dtype_round_trip_with_metadata()
    {
        using var scope = Tensor.Scope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["a.weight"] = Tensor.RandN(3, 4),
            ["b"] = Tensor.FromArray(new[] { 1.5, -2 }),
            ["c"] = Tensor.FromArray(new[] { 7, 8, 9 }),
            ["step"] = Tensor.Scalar(42, DType.Int64),
            ["mask"] = Tensor.FromArray(new[] { true, false, true }),
            ["empty"] = Tensor.Zeros(0, 5),
        };
        SafeTensors.Save(P("m.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt", ["epoch"] = "3" });
        var back = SafeTensors.Load(P("m.safetensors"));
        Assert.Equal(tensors.Keys.Order(), back.Keys.Order());
        foreach (var (k, v) in tensors)
        {
            Assert.Equal(v.Shape.ToArray(), back[k].Shape.ToArray());
            Assert.Equal(v.DType, back[k].DType);
            Assert.Equal(RefArray.Of(v).Data, RefArray.Of(back[k]).Data);
        }
        Assert.Equal("3", SafeTensors.ReadMetadata(P("m.safetensors"))["epoch"]);
        var shapes = SafeTensors.ReadShapes(P("m.safetensors"));
        Assert.Equal(tensors.Keys.Order(), shapes.Keys.Order());
        foreach (var (k, v) in tensors) Assert.Equal(v.Shape.ToArray(), shapes[k]);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void A_file_written_byte_by_byte_from_the_format_definition_is_read()
    {
        // header: {"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"n":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}
        var header = Encoding.UTF8.GetBytes("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}");
        var bytes = new List<byte>();
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        bytes.AddRange(len);
        bytes.AddRange(header);
        bytes.AddRange(BitConverter.GetBytes(1.25f));
        bytes.AddRange(BitConverter.GetBytes(-3f));
        bytes.AddRange(BitConverter.GetBytes(123456789012L));
        File.WriteAllBytes(P("hand.safetensors"), [.. bytes]);
        var t = SafeTensors.Load(P("hand.safetensors"));
        Assert.Equal(new[] { 1.25f, -3f }, t["x"].ToArray<float>());
        Assert.Equal(0, t["n"].Rank);
        Assert.Equal(123456789012L, t["n"].Item<long>());
    }

    public static TheoryData<string, string> Damage() => new()
    {
        { "short", "too short" },
        { "header length", "exceeds" },
        { "json", "not valid JSON" },
        { "dtype", "dtype" },
        { "size", "needs 8 bytes but data_offsets span 4" },
        { "truncated data", "truncated: the header describes 8 bytes of data but the file holds 6" },
        { "trailing", "bytes after the last tensor" },
        { "overlap", "gaps and overlaps" },
        { "overflowing shape", "holds more elements than any file can" },
        { "wrapping shape", "needs 0 bytes but data_offsets span 8" },
        { "string size", "has an invalid size" },
        { "string offset", "data_offsets must be [begin, end]" },
        { "duplicate", "'x' appears twice in the header" },
        { "bad utf-8", "not valid UTF-8" },
    };

    [Theory, MemberData(nameof(Damage))]
    public void Damaged_files_give_a_clear_error_naming_the_file(string kind, string expected)
    {
        string json = kind switch
        {
            "dtype" => "{\"x\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
            "size" => "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
            "overlap" => "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
            "json" => "{\"x\":",
            // a shape whose product overflows a long (it wraps to 5 elements, or to 0 for [65536] × 4 of 4-byte values)
            "overflowing shape" => "{\"x\":{\"dtype\":\"F32\",\"shape\":[998724481,1119412321,33,5],\"data_offsets\":[0,8]}}",
            "wrapping shape" => "{\"x\":{\"dtype\":\"F32\",\"shape\":[65536,65536,65536,0],\"data_offsets\":[0,8]}}",
            "string size" => "{\"x\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}",
            "string offset" => "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",8]}}",
            "duplicate" => "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            "bad utf-8" => "{\"x\\udc80\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            _ => "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        };
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new List<byte>();
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, kind == "header length" ? 1UL << 40 : (ulong)header.Length);
        bytes.AddRange(len);
        bytes.AddRange(header);
        int data = kind switch { "truncated data" => 6, "trailing" => 12, "overlap" => 6, _ => 8 };
        bytes.AddRange(new byte[data]);
        var file = P($"{kind.Replace(' ', '_')}.safetensors");
        File.WriteAllBytes(file, kind == "short" ? [1, 2, 3] : [.. bytes]);
        var ex = Assert.Throws<CheckpointException>(() => SafeTensors.Load(file));
        Assert.Contains(Path.GetFileName(file), ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Contains(expected, Assert.Throws<CheckpointException>(() => SafeTensors.ReadShapes(file)).Message);
        Assert.Throws<CheckpointException>(() => SafeTensors.Load(P("missing.safetensors")));
    }

    [Fact]
    public void A_failed_save_leaves_the_existing_file_untouched()
    {
        var good = new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(3) };
        SafeTensors.Save(P("ckpt.safetensors"), good);
        var before = File.ReadAllBytes(P("ckpt.safetensors"));
        var disposed = Tensor.Ones(3);
        disposed.Dispose();
        Assert.ThrowsAny<Exception>(() => SafeTensors.Save(P("ckpt.safetensors"), new Dictionary<string, Tensor> { ["w"] = disposed }));
        Assert.Equal(before, File.ReadAllBytes(P("ckpt.safetensors")));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(_dir, ".*")));
    }

    [Fact]
    public void A_module_saves_and_loads_itself()
    {
        var a = new Sequential(new Linear(3, 4, generator: new Generator(1)), new BatchNorm1d(4));
        var b = new Sequential(new Linear(3, 4, generator: new Generator(2)), new BatchNorm1d(4));
        a.Save(P("model.safetensors"));
        b.Load(P("model.safetensors"));
        Assert.Equal(a.StateDict()["0.weight"].ToArray<float>(), b.StateDict()["0.weight"].ToArray<float>());
        var wrong = new Sequential(new Linear(3, 5));
        var ex = Assert.Throws<ShapeException>(() => wrong.Load(P("model.safetensors"), strict: false));
        Assert.Contains("0.weight", ex.Message);
        Assert.Contains("[4, 3] x [5, 3]", ex.Message);
    }

    [Fact]
    public void Temporary_files_of_killed_saves_are_removed_by_the_next_save_and_those_of_running_saves_kept()
    {
        using var scope = Tensor.Scope();
        var tensors = new Dictionary<string, Tensor> { ["w"] = Tensor.RandN(4, 4) };
        // what kill -9 during a save leaves: a process id no process has (above the kernel's limit), and the names of earlier versions
        string dead = P($".m.safetensors.{int.MaxValue - 1}.0123456789abcdef.tmp");
        string older = P(".m.safetensors.0123456789abcdef0123456789abcdef.tmp");
        using var alive = System.Diagnostics.Process.Start("sleep", "60");
        string running = P($".m.safetensors.{alive.Id}.fedcba9876543210.tmp");
        string other = P($".other.safetensors.{int.MaxValue - 1}.0123456789abcdef.tmp");
        try
        {
            foreach (var f in new[] { dead, older, running, other }) File.WriteAllBytes(f, new byte[1000]);
            SafeTensors.Save(P("m.safetensors"), tensors);
            Assert.False(File.Exists(dead));
            Assert.False(File.Exists(older));
            Assert.True(File.Exists(running));   // a save under way in another process
            Assert.True(File.Exists(other));     // another file's: its next save removes it
            Assert.Equal(RefArray.Of(tensors["w"]).Data, RefArray.Of(SafeTensors.Load(P("m.safetensors"))["w"]).Data);
        }
        finally { alive.Kill(); }
    }
}
