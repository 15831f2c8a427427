"""The server's Prometheus metrics as tests read them: GET /metrics parsed into samples."""

from prometheus_client.parser import text_string_to_metric_families


async def scrape(api, token: str | None = None) -> dict[tuple[str, tuple], float]:
    """Every sample of GET /metrics, by (name, sorted labels)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await api.client.get(f"{api.base_url}/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
