using System.Runtime.InteropServices;

namespace Engine.Kernels;

/// <summary>
/// Per-thread, grow-only, 64-byte-aligned working memory for kernels (packed GEMM panels, im2col
/// columns). Reusing it avoids paying the first touch of fresh pages on every call.
/// </summary>
internal static unsafe class ThreadScratch
{
    /// <summary>The named uses; each has its own buffer so nested uses do not collide.</summary>
    public enum Slot { GemmA, GemmB, GemmTransposedA, Columns, Partial, Weights, Flipped, SmallMapColumns, SmallMapProducts, Count }

    [ThreadStatic] private static Buffers? t_buffers;

    private sealed class Buffers
    {
        public readonly void*[] Pointers = new void*[(int)Slot.Count];
        public readonly long[] Bytes = new long[(int)Slot.Count];

        ~Buffers()
        {
            foreach (var p in Pointers)
                if (p != null) NativeMemory.AlignedFree(p);
        }
    }

    /// <summary>At least <paramref name="bytes"/> bytes for this thread's use of <paramref name="slot"/>; contents undefined.</summary>
    public static void* Get(Slot slot, long bytes)
    {
        var b = t_buffers ??= new Buffers();
        int i = (int)slot;
        if (b.Bytes[i] < bytes)
        {
            if (b.Pointers[i] != null) NativeMemory.AlignedFree(b.Pointers[i]);
            b.Pointers[i] = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 64), 64);
            b.Bytes[i] = bytes;
        }
        return b.Pointers[i];
    }
}
