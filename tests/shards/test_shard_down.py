"""A shard that stops answering: searches say so with a 503 and a reason, then recover."""
from tests.shards.conftest import QUERIES, answers, differences


def test_a_stopped_shard_gives_503_with_a_reason_and_searches_recover(coordinator, sharded,
                                                                        shard_clusters):
    client = coordinator.test_client()
    with coordinator.app_context():
        assert differences(answers(client), sharded["answers"]) == []  # fan-out connections open
        west = shard_clusters[1]
        west.stop("immediate")
        try:
            for _ in range(2):  # the broken cached connection, then a new one refused
                api = client.get("/api/v1/search", query_string={"q": "控制"})
                assert api.status_code == 503
                assert api.get_json()["error"] == "联合目录有一部分暂时没有响应，请稍后再试。"
                page = client.get("/search", query_string={"q": "控制"})
                assert page.status_code == 503
                assert "联合目录有一部分暂时没有响应" in page.get_data(as_text=True)
                assert "shard_west" not in page.get_data(as_text=True)  # words, not codes
        finally:
            west.start()
        assert differences(answers(client, QUERIES), sharded["answers"]) == []
