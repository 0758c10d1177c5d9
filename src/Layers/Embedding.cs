namespace Engine.Layers;

/// <summary>A table of vectors [num, dim] looked up by integer ids; initialised N(0, 1) like PyTorch.</summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table.</summary>
    public Embedding(int numEmbeddings, int embeddingDim, DType dtype = DType.Float32, Generator? generator = null)
    {
        if (numEmbeddings < 1 || embeddingDim < 1) throw new EngineException($"Embedding: sizes must be positive, not {numEmbeddings} x {embeddingDim}");
        Weight = RegisterParameter("weight", Tensor.RandN([numEmbeddings, embeddingDim], 0, 1, dtype, generator));
    }

    /// <summary>[num, dim]</summary>
    public Parameter Weight { get; }

    /// <summary>Rows for integer ids of any shape: [...ids, dim].</summary>
    public override Variable Forward(Variable ids) => Functional.Embedding(ids.Data, Weight);
}
