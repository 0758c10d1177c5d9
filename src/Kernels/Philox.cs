namespace Engine.Kernels;

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
/// counter-based generator behind every random fill. A draw is a pure function of (seed, counter),
/// so any backend, any thread order and any device produce the same numbers for the same seed.
/// </summary>
/// <remarks>
/// Element i of a fill at stream offset o uses the block at counter o + i: four 32-bit words.
/// Float32 uniforms use the top 24 bits of word 0; Float64 uniforms 53 bits of words 0-1;
/// normals use Box-Muller on two 53-bit uniforms from words 0-1 and 2-3; integers words 0-1.
/// </remarks>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>The four words of block <paramref name="counter"/> under key <paramref name="seed"/>.</summary>
    public static (uint, uint, uint, uint) Block(ulong seed, ulong counter) =>
        Block((uint)counter, (uint)(counter >> 32), 0, 0, (uint)seed, (uint)(seed >> 32));

    /// <summary>The ten-round bijection on a full 128-bit counter and 64-bit key.</summary>
    public static (uint, uint, uint, uint) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0, hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>Uniform float32 on [0, 1) from one word.</summary>
    public static float UniformFloat(uint w) => (w >> 8) * (1.0f / 16777216f);

    /// <summary>Uniform float64 on [0, 1) from two words.</summary>
    public static double UniformDouble(uint hi, uint lo) => ((((ulong)hi << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>One standard normal by Box-Muller from the four words of a block.</summary>
    public static double Normal(uint w0, uint w1, uint w2, uint w3)
    {
        double u1 = 1.0 - UniformDouble(w0, w1);   // (0, 1]: the log stays finite
        double u2 = UniformDouble(w2, w3);
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
