{
  "targets": [
    {
      "target_name": "lionctr_malloc",
      "sources": ["malloc_tune.c"]
    }
  ]
}
