export DATABASE_URL=postgres://mes_app@127.0.0.1:5432/mes_h22
export DATABASE_OWNER_URL=postgres://mes_owner@127.0.0.1:5432/mes_h22
export REDIS_URL=redis://127.0.0.1:6379/22
export MES_VAR_DIR=/work/wt22/var/h22
export MES_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mes_bench_h22
