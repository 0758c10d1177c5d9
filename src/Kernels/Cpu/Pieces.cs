namespace Engine.Kernels;

/// <summary>
/// How many pieces a sum is cut into when pieces are computed in parallel and then added: from the
/// problem's size alone, never from the number of threads, so that partial results combine in the
/// same order, and give the same bits, on any machine and with any <see cref="WorkerPool.Threads"/>.
/// The pieces are handed to however many workers there are.
/// </summary>
internal static class Pieces
{
    /// <summary>The most pieces of a sum over images (each a full-size partial result).</summary>
    public const int MaxImagePieces = 8;

    /// <summary>The most bytes of partial results one such sum keeps.</summary>
    public const long PartialBudget = 64L << 20;

    /// <summary>Elements per piece of a long dense reduction.</summary>
    public const long ReductionPiece = 1 << 15;

    /// <summary>The most pieces of a long dense reduction.</summary>
    public const int MaxReductionPieces = 256;

    /// <summary>Pieces of a sum over <paramref name="items"/> images, each piece's partial result <paramref name="partialBytes"/> bytes.</summary>
    public static int OverImages(int items, long partialBytes) =>
        (int)Math.Clamp(Math.Min(Math.Min(items, MaxImagePieces), PartialBudget / Math.Max(partialBytes, 1) + 1), 1, MaxImagePieces);

    /// <summary>Pieces of a dense reduction of <paramref name="count"/> elements.</summary>
    public static int OverElements(long count) => (int)Math.Clamp((count + ReductionPiece - 1) / ReductionPiece, 1, MaxReductionPieces);
}
