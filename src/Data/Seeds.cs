namespace Engine.Data;

/// <summary>Derives independent seeds from one seed, so each epoch gets its own random stream.</summary>
internal static class Seeds
{
    /// <summary>SplitMix64 of (seed, stream): nearby inputs give unrelated outputs.</summary>
    public static ulong Mix(ulong seed, ulong stream)
    {
        ulong z = seed + (stream + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A random permutation of 0 … n-1 from a fresh generator seeded with <paramref name="seed"/>.</summary>
    public static int[] Permutation(int n, ulong seed)
    {
        using var perm = Tensor.RandPerm(n, new Generator(seed));
        return Array.ConvertAll(perm.ToArray<long>(), i => (int)i);
    }
}
